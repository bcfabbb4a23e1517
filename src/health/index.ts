// The per-router health prober (DESIGN §8): gRPC health checks of every
// storage node each monitor interval, flips after N consecutive results,
// error-rate thresholds, and the local view the router proposes to Raft.
export { HealthProber } from './health-prober.js';
export { healthProberFromConfig, probeTargets, type ProberHooks } from './prober-from-config.js';
export { checkProberOptions, PROBER_LIMITS, type HealthProberOptions, type ProbeSample } from './prober-options.js';
export { GrpcHealthClient, HEALTH_SERVICE, type GrpcHealthClientOptions } from './grpc-health-client.js';
export type { HealthCheckClient, CheckOptions } from './health-check-client.js';
export { SERVING, probeFailure, type ProbeOutcome, type ProbeFailureReason } from './probe-outcome.js';
export { sameVerdicts, type HealthView, type NodeHealth, type LastProbe } from './health-view.js';
export { nextStreak, STARTUP_STREAK, type ProbeStreak } from './probe-streak.js';
export { ErrorRateTracker, type ErrorKind, type ErrorThresholdSettings } from './error-rate-tracker.js';
export { realScheduler, type Scheduler, type TimerHandle } from './scheduler.js';
export { storageKey, type StorageRef, type ProbeTarget } from './storage-ref.js';
export { dialTarget, type DialTarget } from './dial-target.js';
export { nodeLatencyObserver, NODE_LATENCY_METRIC } from './latency-histogram.js';
export { UnknownStorageError, ProberOptionsError, ProberStateError } from './errors.js';

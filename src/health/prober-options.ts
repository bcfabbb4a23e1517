// What a HealthProber is built from, checked once so the loop can trust it.
import type { Logger } from 'pino';
import { ProberOptionsError } from './errors.js';
import type { ErrorThresholdSettings } from './error-rate-tracker.js';
import type { HealthCheckClient } from './health-check-client.js';
import type { HealthView } from './health-view.js';
import type { ProbeOutcome } from './probe-outcome.js';
import type { Scheduler } from './scheduler.js';
import { storageKey, type ProbeTarget, type StorageRef } from './storage-ref.js';

/** One finished probe, for latency metrics. */
export interface ProbeSample extends StorageRef {
  readonly outcome: ProbeOutcome;
  readonly latencyMs: number;
}

export interface HealthProberOptions {
  /** In configuration order; the view keeps it. */
  readonly targets: readonly ProbeTarget[];
  /** The prober owns it and closes it on stop(). */
  readonly client: HealthCheckClient;
  readonly monitorIntervalMs: number;
  /** At most monitorIntervalMs, so a round never waits on the previous one. */
  readonly probeTimeoutMs: number;
  /** N consecutive failures or successes flip a node. */
  readonly consecutiveProbes: number;
  /**
   * After a failed probe of a node still counted healthy (or a failed call
   * the router made to it), probe it again this much later instead of
   * waiting for the next round, so N consecutive failures take about one
   * interval plus (N - 1) of these rather than N intervals. Absent: rounds only.
   */
  readonly confirmFailureAfterMs?: number;
  /** null or absent: error-rate tracking is off. */
  readonly errorThresholds?: ErrorThresholdSettings | null;
  readonly scheduler?: Scheduler;
  /** Called with the full view whenever any node's verdict changed. */
  readonly onChange?: (view: HealthView) => void;
  /** Called after every probe, e.g. to feed gitaly_praefect_node_latency. */
  readonly onProbe?: (sample: ProbeSample) => void;
  readonly logger?: Logger;
}

/** Upper bounds that keep a misconfigured caller from building a prober that cannot work. */
export const PROBER_LIMITS = {
  maxTargets: 4_096,
  maxConsecutiveProbes: 1_000,
  minIntervalMs: 1,
  maxIntervalMs: 3_600_000,
} as const;

export function checkProberOptions(options: HealthProberOptions): void {
  const problems: string[] = [];
  const { monitorIntervalMs: interval, probeTimeoutMs: timeout, consecutiveProbes: n } = options;
  if (!inRange(interval, PROBER_LIMITS.minIntervalMs, PROBER_LIMITS.maxIntervalMs)) problems.push(`monitorIntervalMs ${interval}`);
  if (!inRange(timeout, PROBER_LIMITS.minIntervalMs, interval)) problems.push(`probeTimeoutMs ${timeout} (must be ≤ monitorIntervalMs)`);
  if (!Number.isInteger(n) || !inRange(n, 1, PROBER_LIMITS.maxConsecutiveProbes)) problems.push(`consecutiveProbes ${n}`);
  const confirm = options.confirmFailureAfterMs;
  if (confirm !== undefined && !inRange(confirm, PROBER_LIMITS.minIntervalMs, interval)) problems.push(`confirmFailureAfterMs ${confirm} (must be ≤ monitorIntervalMs)`);
  if (options.targets.length > PROBER_LIMITS.maxTargets) problems.push(`${options.targets.length} targets`);
  const keys = options.targets.map(storageKey);
  if (new Set(keys).size !== keys.length) problems.push('a storage is listed twice');
  problems.push(...thresholdProblems(options.errorThresholds ?? null));
  if (problems.length > 0) throw new ProberOptionsError(`invalid prober options: ${problems.join('; ')}`);
}

function thresholdProblems(t: ErrorThresholdSettings | null): string[] {
  if (t === null) return [];
  const positive = [t.readErrorCount, t.writeErrorCount, t.windowMs].every((v) => Number.isInteger(v) && v > 0);
  return positive ? [] : ['error thresholds must all be positive integers'];
}

function inRange(value: number, min: number, max: number): boolean {
  return Number.isFinite(value) && value >= min && value <= max;
}

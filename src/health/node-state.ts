// One storage node as the prober sees it: its probe streak, its error rate,
// the verdict both give, and the probe in flight (at most one, ever).
import { ErrorRateTracker, type ErrorKind, type ErrorThresholdSettings } from './error-rate-tracker.js';
import type { LastProbe, NodeHealth } from './health-view.js';
import type { ProbeOutcome } from './probe-outcome.js';
import { nextStreak, STARTUP_STREAK, type ProbeStreak } from './probe-streak.js';
import type { TimerHandle } from './scheduler.js';
import type { ProbeTarget } from './storage-ref.js';

export interface InFlightProbe {
  /** Tells this probe's late result from a newer probe's. */
  readonly generation: number;
  readonly startedMs: number;
  readonly deadlineMs: number;
  readonly abort: AbortController;
  readonly timer: TimerHandle;
}

export class NodeState {
  inFlight: InFlightProbe | null = null;
  private streak: ProbeStreak = STARTUP_STREAK;
  private errorRateExceeded = false;
  private healthy = false;
  private sinceMs: number;
  private lastProbe: LastProbe | null = null;
  private readonly errors: ErrorRateTracker | null;

  constructor(
    readonly target: ProbeTarget,
    private readonly threshold: number,
    thresholds: ErrorThresholdSettings | null,
    startMs: number,
  ) {
    this.errors = thresholds === null ? null : new ErrorRateTracker(thresholds);
    this.sinceMs = startMs;
  }

  get isHealthy(): boolean {
    return this.healthy;
  }

  /** Returns whether the verdict changed. */
  recordProbe(outcome: ProbeOutcome, latencyMs: number, nowMs: number): boolean {
    this.streak = nextStreak(this.streak, outcome.ok, this.threshold);
    this.lastProbe = outcome.ok
      ? { ok: true, latencyMs, atMs: nowMs }
      : { ok: false, reason: outcome.reason, detail: outcome.detail, latencyMs, atMs: nowMs };
    return this.reevaluate(nowMs);
  }

  /** Returns whether the verdict changed; a no-op when error tracking is off. */
  recordError(kind: ErrorKind, nowMs: number): boolean {
    if (this.errors === null) return false;
    this.errors.record(kind, nowMs);
    return this.reevaluate(nowMs);
  }

  /** Errors age out of their window with time alone, so rounds re-evaluate too. */
  reevaluate(nowMs: number): boolean {
    this.errorRateExceeded = this.errors?.exceeded(nowMs) ?? false;
    const healthy = this.streak.healthy && !this.errorRateExceeded;
    if (healthy === this.healthy) return false;
    this.healthy = healthy;
    this.sinceMs = nowMs;
    return true;
  }

  snapshot(): NodeHealth {
    return {
      virtualStorage: this.target.virtualStorage,
      storage: this.target.storage,
      address: this.target.address,
      healthy: this.healthy,
      sinceMs: this.sinceMs,
      probeHealthy: this.streak.healthy,
      errorRateExceeded: this.errorRateExceeded,
      consecutiveSuccesses: this.streak.successes,
      consecutiveFailures: this.streak.failures,
      lastProbe: this.lastProbe,
    };
  }
}

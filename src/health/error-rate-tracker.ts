// Upstream's error thresholds: a node with at least `readErrorCount` read
// errors, or `writeErrorCount` write errors, within the last `windowMs` counts
// as unhealthy, whatever its probes say. It is healthy again (if its probes
// are) once enough of those errors have aged out of the window.
//
// Only the newest `threshold` timestamps per node and kind are kept: the
// threshold is reached exactly when the oldest of them is still in the window.
// So memory is bounded by the thresholds, not by the error rate.

export type ErrorKind = 'read' | 'write';

export interface ErrorThresholdSettings {
  readonly readErrorCount: number;
  readonly writeErrorCount: number;
  readonly windowMs: number;
}

class RecentErrors {
  private readonly stampsMs: number[] = [];

  constructor(private readonly threshold: number) {}

  record(nowMs: number): void {
    this.stampsMs.push(nowMs);
    if (this.stampsMs.length > this.threshold) this.stampsMs.shift();
  }

  reached(nowMs: number, windowMs: number): boolean {
    const oldest = this.stampsMs[0];
    return this.stampsMs.length >= this.threshold && oldest !== undefined && nowMs - oldest < windowMs;
  }
}

export class ErrorRateTracker {
  private readonly read: RecentErrors;
  private readonly write: RecentErrors;

  constructor(private readonly settings: ErrorThresholdSettings) {
    this.read = new RecentErrors(settings.readErrorCount);
    this.write = new RecentErrors(settings.writeErrorCount);
  }

  record(kind: ErrorKind, nowMs: number): void {
    (kind === 'read' ? this.read : this.write).record(nowMs);
  }

  exceeded(nowMs: number): boolean {
    return this.read.reached(nowMs, this.settings.windowMs) || this.write.reached(nowMs, this.settings.windowMs);
  }
}

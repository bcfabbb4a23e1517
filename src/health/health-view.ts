// A router's own view of every storage node: what it proposes to Raft, and
// what it checks before sending a call anywhere.
import type { ProbeFailureReason } from './probe-outcome.js';

export interface LastProbe {
  readonly ok: boolean;
  readonly reason?: ProbeFailureReason;
  readonly detail?: string;
  readonly latencyMs: number;
  /** Scheduler time the result arrived. */
  readonly atMs: number;
}

export interface NodeHealth {
  readonly virtualStorage: string;
  readonly storage: string;
  readonly address: string;
  /** The local verdict: probes say healthy and the error rate is below its thresholds. */
  readonly healthy: boolean;
  /** Scheduler time `healthy` last changed (the prober's start for a node never flipped). */
  readonly sinceMs: number;
  readonly probeHealthy: boolean;
  readonly errorRateExceeded: boolean;
  readonly consecutiveSuccesses: number;
  readonly consecutiveFailures: number;
  readonly lastProbe: LastProbe | null;
}

export interface HealthView {
  /** In configuration order. */
  readonly nodes: readonly NodeHealth[];
  readonly takenAtMs: number;
}

/** Whether two views give the same verdicts; counters and latencies do not count as a change. */
export function sameVerdicts(a: HealthView, b: HealthView): boolean {
  return a.nodes.length === b.nodes.length && a.nodes.every((node, i) => node.healthy === b.nodes[i]?.healthy);
}

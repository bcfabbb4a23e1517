// A run's parameters as test.json stores them, and how the phases split the
// time limit: warm-up, faults, then heal and recovery.
import type { HarnessEvent, HarnessNemesis } from './nemesis/harness-nemesis.js';
import type { WorkloadName } from './workloads/index.js';

export type NetBackend = 'proxy' | 'netns';

export interface TestConfig {
  readonly name: string;
  readonly workload: WorkloadName;
  readonly nemesis: HarnessNemesis;
  /** The §12 scenario this run is, if any: its expectations are checked too. */
  readonly scenario?: string;
  readonly seed: number;
  readonly routers: number;
  readonly storages: number;
  readonly net: NetBackend;
  readonly timeLimitMs: number;
  readonly warmupMs: number;
  readonly faultMs: number;
  readonly recoveryMs: number;
  /** Longest wait for the cluster to be healthy after the heal, before recovery ops count. */
  readonly recoveryTimeoutMs: number;
  readonly nemesisIntervalMs: number;
  readonly concurrency: number;
  readonly opDelayMs: number;
  readonly opTimeoutMs: number;
  readonly monitorIntervalMs: number;
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly liveKeys: number;
  readonly opsPerKey: number;
  /** Repositories made ahead of need (rotation survives failed creations). */
  readonly spareKeys: number;
  readonly raftPollIntervalMs: number;
  /** Each storage node's storage path on a tmpfs of this size (root only; disk-full faults). */
  readonly storageDiskBytes?: number;
  /** The planned fault events, times from the start of the fault phase. */
  readonly schedule: readonly HarnessEvent[];
}

export interface PhaseSplit {
  readonly warmupMs: number;
  readonly faultMs: number;
  readonly recoveryMs: number;
}

/** 15 % warm-up, 60 % faults, 25 % recovery of the time limit (recovery at least 5 s). */
export function splitTimeLimit(timeLimitMs: number): PhaseSplit {
  const warmupMs = Math.round(timeLimitMs * 0.15);
  const recoveryMs = Math.max(5_000, Math.round(timeLimitMs * 0.25));
  return { warmupMs, faultMs: Math.max(0, timeLimitMs - warmupMs - recoveryMs), recoveryMs };
}

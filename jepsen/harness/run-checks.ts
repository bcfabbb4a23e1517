// Every checker over a finished (or saved) run: linearizability for the
// workload's model (unknown counts as failure), acknowledged writes, the
// split-brain check, the Raft invariants, and availability per fault window.
// Pure over its inputs, so a saved run re-checks offline to the same result.
import {
  acknowledgedWrites,
  appendList,
  availability,
  checkLinearizability,
  clusterStateRegister,
  formatLinearizabilityReport,
  raftInvariants,
  register,
  splitBrain,
  splitBrainFromWriteLogs,
  type AcknowledgedWritesResult,
  type FaultWindow,
  type LinearizabilityResult,
  type Op,
  type RaftSample,
  type StorageWrite,
  type WindowAvailability,
  type WriteLogLine,
} from '../checker/index.js';
import type { WorkloadName } from './workloads/index.js';

export interface CheckInputs {
  readonly workload: WorkloadName;
  readonly history: readonly Op[];
  readonly raftSamples: readonly RaftSample[];
  /** Who wrote each (repository, generation): the router-observed stand-in until storage nodes log writes. */
  readonly writers: readonly StorageWrite[];
  /** The storage nodes' write logs; when they hold no line, the split-brain check falls back to `writers`. */
  readonly storageWrites?: readonly WriteLogLine[];
  readonly windows: readonly FaultWindow[];
  /** Per-key linearizability search bound. */
  readonly linearizabilityTimeLimitMs?: number;
}

export interface CheckSummary {
  readonly valid: boolean;
  readonly [detail: string]: unknown;
}

export interface CheckResults {
  readonly valid: boolean;
  readonly checks: Record<string, CheckSummary>;
  readonly stats: OpStats;
  readonly availability: WindowAvailability[];
  /** Fresh repositories made and failed to make (run only; a recheck keeps none). */
  readonly setup?: { readonly keys: number; readonly failures: number; readonly firstFailures: readonly unknown[] };
}

export interface OpStats {
  readonly total: number;
  readonly byF: Record<string, { ok: number; fail: number; info: number }>;
}

/** The mutating fs of each workload: availability is measured on these. */
export const WRITE_FS: Record<WorkloadName, readonly string[]> = {
  register: ['write', 'cas'],
  append: ['append'],
  'cluster-state': ['write'],
  'set-full': ['add'],
};

export function runChecks(inputs: CheckInputs): CheckResults {
  const checks: Record<string, CheckSummary> = {};
  const linear = linearizabilityOf(inputs);
  if (linear !== undefined) checks['linearizability'] = summarizeLinearizability(linear);
  if (inputs.workload === 'append' || inputs.workload === 'set-full') {
    checks['acknowledged-writes'] = summarizeAcknowledged(acknowledgedWrites(inputs.history, { addF: inputs.workload === 'append' ? 'append' : 'add', readF: 'read' }));
  }
  checks['split-brain'] = splitBrainCheck(inputs);
  const raft = raftInvariants(inputs.raftSamples);
  const digested = inputs.raftSamples.filter((s) => s.appliedDigest !== undefined).length;
  checks['raft-invariants'] = {
    valid: raft.valid,
    samples: inputs.raftSamples.length,
    digestSamples: digested,
    comparedDigestIndexes: raft.comparedDigestIndexes,
    violations: raft.violations.slice(0, 20),
  };
  const windows = availability(inputs.history, inputs.windows, { fs: WRITE_FS[inputs.workload] });
  return { valid: Object.values(checks).every((c) => c.valid), checks, stats: opStats(inputs.history), availability: windows };
}

/** From the storage nodes' write logs; the router-observed stand-in only when no node logged a line (e.g. a router that sends no praefect-write marker). */
function splitBrainCheck(inputs: CheckInputs): CheckSummary {
  const logged = inputs.storageWrites ?? [];
  if (logged.length > 0) {
    const brain = splitBrainFromWriteLogs(logged);
    return {
      valid: brain.valid,
      source: 'storage write logs (one primary storage per repository_id and generation)',
      generations: brain.generations,
      primaryLines: brain.primaryLines,
      secondaryLines: brain.secondaryLines,
      violations: brain.violations.slice(0, 20),
    };
  }
  const brain = splitBrain(inputs.writers);
  return {
    valid: brain.valid,
    source: 'router-observed stand-in (admin RepositoryMetadata after each ok write): the storage write logs hold no line',
    generations: brain.generations,
    violations: brain.violations.slice(0, 20),
  };
}

function linearizabilityOf(inputs: CheckInputs): LinearizabilityResult | undefined {
  const options = { timeLimitMs: inputs.linearizabilityTimeLimitMs ?? 10_000, totalTimeLimitMs: 120_000 };
  switch (inputs.workload) {
    case 'register':
      return checkLinearizability(inputs.history, register(), options);
    case 'append':
      return checkLinearizability(inputs.history, appendList(), options);
    case 'cluster-state':
      return checkLinearizability(inputs.history, clusterStateRegister(), options);
    case 'set-full':
      return undefined;
  }
}

function summarizeLinearizability(result: LinearizabilityResult): CheckSummary {
  const count = (verdict: string): number => result.keys.filter((k) => k.verdict === verdict).length;
  return {
    // An unknown verdict (a search bound hit) is a failure: nothing was shown.
    valid: result.verdict === 'ok',
    verdict: result.verdict,
    keys: result.keys.length,
    ok: count('ok'),
    illegal: count('illegal'),
    unknown: count('unknown'),
    staleReadsLeftOut: result.staleReads,
    report: formatLinearizabilityReport(result),
  };
}

function summarizeAcknowledged(result: AcknowledgedWritesResult): CheckSummary {
  const sum = (pick: (k: AcknowledgedWritesResult['keys'][number]) => number): number => result.keys.reduce((n, k) => n + pick(k), 0);
  return {
    valid: result.verdict === 'ok',
    verdict: result.verdict,
    keys: result.keys.length,
    acknowledged: sum((k) => k.acknowledged),
    attempted: sum((k) => k.attempted),
    lost: result.keys.flatMap((k) => k.lost.map((l) => ({ key: k.key, id: l.id }))).slice(0, 50),
    stale: result.keys.flatMap((k) => k.stale.map((s) => ({ key: k.key, id: s.id, staleReads: s.staleReads }))).slice(0, 50),
    unexpected: sum((k) => k.unexpected.length),
    failedButPresent: sum((k) => k.failedButPresent.length),
    keysWithoutFinalRead: result.keys.filter((k) => k.acknowledged > 0 && k.finalReads === 0).map((k) => k.key),
  };
}

export function opStats(history: readonly Op[]): OpStats {
  const byF: Record<string, { ok: number; fail: number; info: number }> = {};
  let total = 0;
  for (const op of history) {
    if (op.process === 'nemesis' || op.type === 'invoke') continue;
    total++;
    const entry = (byF[op.f] ??= { ok: 0, fail: 0, info: 0 });
    entry[op.type]++;
  }
  return { total, byF };
}

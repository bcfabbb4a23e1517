// DESIGN §12's failure-semantics table as named scenarios: each row is a
// targeted fault, a workload, and the behaviour it must show, checked on top
// of every checker. Rows the harness cannot stage yet are listed with why.
import { clientOperations, pairOperations, type FaultWindow, type Op, type Operation, type StorageWrite } from '../checker/index.js';
import type { HarnessEvent, HarnessFault } from './nemesis/harness-nemesis.js';
import { outcomeDelta, type ReplicationProbe } from './replication-probe.js';
import { WRITE_FS, type CheckResults, type CheckSummary } from './run-checks.js';
import type { TestConfig } from './test-config.js';
import type { WorkloadName } from './workloads/index.js';

/** What the runner measures for a scenario besides the history. */
export interface ScenarioProbes {
  /** A CreateRepository through a router in the middle of the fault: its gRPC status name ('OK' when it worked). */
  createDuringFault?: string;
  /** Processes (by name) not running at the end of recovery. */
  notRunning?: string[];
  /** Repositories whose assigned replicas are not all on the repository's generation after recovery. */
  outdatedAfterRecovery?: string[];
  /** Replication attempts by target and outcome, at the fault's start and just before its stop. */
  replication?: ReplicationProbe;
  /** The repositories outdated at the heal, and how long until each was seen current (ms null: not all within the bound). */
  catchUp?: { readonly ms: number | null; readonly outdatedAtHeal: number; readonly stillOutdated: readonly string[] };
}

export type Expectation =
  /**
   * With failClosedAllowed, a key whose writes after the limit all fail with
   * UNAVAILABLE counts as fail-closed, not late: it had no other replica on
   * the latest generation (a repository created just before the fault).
   */
  | { readonly kind: 'writes-resume-within'; readonly intervals: number; readonly failClosedAllowed?: boolean }
  | { readonly kind: 'writes-continue' }
  | { readonly kind: 'reads-continue' }
  /** With primaryFaulted, only keys whose last known primary (from the write observations) was hit. */
  | { readonly kind: 'writes-fail-closed'; readonly graceIntervals: number; readonly codes: readonly string[]; readonly primaryFaulted?: boolean }
  | { readonly kind: 'no-ok-writes-via-faulted-router'; readonly graceMs: number }
  | { readonly kind: 'writes-recover-after-heal'; readonly withinMs: number }
  /** The codes of writes whose outcome is unknown (info). */
  | { readonly kind: 'write-errors-are'; readonly codes: readonly string[] }
  | { readonly kind: 'create-fails'; readonly codes: readonly string[] }
  | { readonly kind: 'processes-running' }
  | { readonly kind: 'replicas-caught-up' }
  /** During the fault, no replication attempt toward the faulted nodes completed, and at least one failed (and was retried with backoff) or died. */
  | { readonly kind: 'replication-toward-faulted-fails' }
  | { readonly kind: 'replicas-catch-up-after-heal'; readonly withinMs: number }
  /** After the grace, no ok write's observed primary is a faulted storage; and during the fault some key moved off one. */
  | { readonly kind: 'writes-moved-off-faulted'; readonly graceIntervals: number };

export interface Scenario {
  readonly name: string;
  /** The §12 row, word for word. */
  readonly fault: string;
  readonly expected: string;
  readonly workload: WorkloadName;
  /** The one fault of the run, held from the start of the fault phase to its end. */
  readonly inject?: HarnessFault;
  readonly expectations: readonly Expectation[];
  /** Overrides of the run's defaults (more keys' ops for long faults, load for the spike). */
  readonly tuning?: Partial<Pick<TestConfig, 'opsPerKey' | 'liveKeys' | 'spareKeys' | 'concurrency' | 'opDelayMs' | 'storageDiskBytes'>>;
  readonly probes?: readonly (keyof ScenarioProbes)[];
  /** Why the harness cannot stage this row yet; the suite reports it as not run. */
  readonly unsupported?: string;
  /** Needs root (a tmpfs mount); otherwise reported as not runnable. */
  readonly requiresRoot?: boolean;
  /** The network backend this row needs; with another, the row is reported as not runnable. */
  readonly requiresNet?: 'netns';
  /** A shorter --time-limit is raised to this (the fault must outlast a timeout of the system under test), and why. */
  readonly minTimeLimit?: { readonly ms: number; readonly why: string };
}

const RETRYABLE = ['UNAVAILABLE', 'ABORTED', 'DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED'];

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'primary-storage-down',
    fault: 'primary storage node down',
    expected: 'failover within 3 probe intervals; writes resume on the new primary',
    workload: 'register',
    inject: { kind: 'kill-role', role: 'primary-storage' },
    // A key whose only up-to-date replica was the dead primary must fail closed (UNAVAILABLE), never
    // write to an outdated one; some key must have moved to a new primary.
    expectations: [{ kind: 'writes-resume-within', intervals: 3, failClosedAllowed: true }, { kind: 'writes-moved-off-faulted', graceIntervals: 3 }],
  },
  {
    name: 'secondary-down',
    fault: 'secondary down',
    expected: 'writes succeed, replication queues, reads go to the remaining up-to-date replicas',
    workload: 'register',
    inject: { kind: 'kill-role', role: 'one-secondary-storage' },
    expectations: [{ kind: 'writes-continue' }, { kind: 'reads-continue' }],
  },
  {
    name: 'node-returns',
    fault: 'node returns',
    expected: 'it catches up through replication, and its generation matches again',
    workload: 'register',
    inject: { kind: 'kill-role', role: 'one-secondary-storage' },
    // Writes go on through recovery, so a replica can be one write behind at any instant: what
    // must hold is that every repository outdated at the heal is seen current soon after.
    expectations: [{ kind: 'replicas-catch-up-after-heal', withinMs: 30_000 }],
    probes: ['catchUp'],
  },
  {
    name: 'majority-of-replicas-down',
    fault: "more than half of a repository's replicas down",
    expected: 'clear UNAVAILABLE or read-only; never a write to an outdated replica',
    workload: 'register',
    inject: { kind: 'kill-role', role: 'storage-majority' },
    // DESIGN §8 elects any healthy replica on the latest generation: with strong consistency the
    // surviving secondary usually is one, and writes go on there. A key whose survivor is outdated
    // must fail closed; a write to an outdated replica would show as a lost or stale value in the
    // checkers. So: clear errors only, and every checker.
    expectations: [{ kind: 'write-errors-are', codes: [...RETRYABLE, 'FAILED_PRECONDITION'] }],
  },
  {
    name: 'all-secondaries-down',
    fault: 'all secondaries down',
    expected: 'writes succeed on the primary alone, and replication queues',
    workload: 'set-full',
    inject: { kind: 'kill-role', role: 'all-secondary-storages' },
    expectations: [{ kind: 'writes-continue' }],
  },
  {
    name: 'postgres-down',
    fault: 'PostgreSQL down',
    expected: 'reads and writes to existing repositories continue; creation fails with UNAVAILABLE; jobs are scheduled by the reconciler once it is back',
    workload: 'register',
    inject: { kind: 'kill-role', role: 'postgres' },
    expectations: [{ kind: 'writes-continue' }, { kind: 'reads-continue' }, { kind: 'create-fails', codes: ['UNAVAILABLE'] }],
    tuning: { spareKeys: 8 },
    probes: ['createDuringFault'],
  },
  {
    name: 'postgres-slow',
    fault: 'PostgreSQL slow, or its pool exhausted',
    expected: 'a bounded wait, then a clear error; no crash; automatic reconnection',
    workload: 'register',
    inject: { kind: 'delay-links', from: 'routers', to: 'postgres', delayMs: 2_000 },
    expectations: [{ kind: 'processes-running' }, { kind: 'writes-recover-after-heal', withinMs: 10_000 }],
    probes: ['notRunning'],
  },
  {
    name: 'one-router-down',
    fault: 'one router down or isolated (down)',
    expected: 'the others keep quorum and serve',
    workload: 'register',
    inject: { kind: 'kill-role', role: 'leader-router' },
    expectations: [{ kind: 'writes-continue' }, { kind: 'reads-continue' }],
  },
  {
    name: 'one-router-isolated',
    fault: 'one router down or isolated (isolated)',
    expected: 'the others keep quorum and serve; the isolated one refuses writes it cannot commit',
    workload: 'register',
    inject: { kind: 'isolate-role', role: 'leader-router' },
    expectations: [{ kind: 'writes-continue' }, { kind: 'no-ok-writes-via-faulted-router', graceMs: 300 }],
  },
  {
    name: 'majority-of-routers-down',
    fault: 'majority of routers down',
    expected: 'no new elections or generation bumps, so writes fail closed (UNAVAILABLE); reads continue',
    workload: 'register',
    inject: { kind: 'kill-role', role: 'router-majority' },
    expectations: [{ kind: 'writes-fail-closed', graceIntervals: 0, codes: ['UNAVAILABLE'] }, { kind: 'reads-continue' }],
  },
  {
    name: 'all-routers-restart',
    fault: 'all routers restart',
    expected: 'the state comes back from LevelDB, and health is re-established',
    workload: 'append',
    inject: { kind: 'restart-all-routers' },
    expectations: [{ kind: 'writes-recover-after-heal', withinMs: 15_000 }],
  },
  {
    name: 'storage-to-storage-partition',
    fault: 'storage-to-storage partition',
    expected: 'replication fails and retries with backoff',
    workload: 'register',
    inject: { kind: 'cut-storage-links', role: 'one-secondary-storage' },
    // Catch-up is bounded loosely: an attempt caught mid-stream by the cut hangs (no deadline on the
    // fetch stream) until TCP retransmits after the heal, which its backoff delays by up to a minute.
    expectations: [{ kind: 'writes-continue' }, { kind: 'replication-toward-faulted-fails' }, { kind: 'replicas-catch-up-after-heal', withinMs: 90_000 }],
    probes: ['replication', 'catchUp'],
    requiresNet: 'netns',
    minTimeLimit: {
      ms: 120_000,
      why: 'a replication attempt across a silent partition hangs until the storage node gives up on the source (its 60 s source-call deadline), so the fault phase (60 % of the time limit) must last over 60 s for an attempt to fail inside it',
    },
  },
  {
    name: 'primary-crash-mid-write',
    fault: 'primary crashes mid-transaction',
    expected: 'abort, with no partial commit',
    workload: 'append',
    inject: { kind: 'kill-role', role: 'primary-storage' },
    expectations: [],
  },
  {
    name: 'vote-timeout',
    fault: 'vote timeout',
    expected: 'abort, and the client gets a retryable error',
    workload: 'register',
    // Every secondary stops answering: a write fanned out before health marks them down waits for a
    // vote no quorum can give, and the vote timeout aborts it; afterwards writes go to the primary alone.
    inject: { kind: 'pause-role', role: 'all-secondary-storages' },
    expectations: [{ kind: 'write-errors-are', codes: RETRYABLE }, { kind: 'writes-recover-after-heal', withinMs: 15_000 }],
  },
  {
    name: 'load-spike',
    fault: 'queue grows or write load spikes',
    expected: 'bounded queues, oldest first, load shedding with RESOURCE_EXHAUSTED',
    workload: 'set-full',
    expectations: [{ kind: 'write-errors-are', codes: RETRYABLE }, { kind: 'processes-running' }],
    tuning: { concurrency: 48, opDelayMs: 0 },
    probes: ['notRunning'],
  },
  {
    name: 'storage-disk-full',
    fault: 'storage node disk full',
    expected: 'it reports itself unhealthy, and failover follows',
    workload: 'register',
    inject: { kind: 'fill-disk', role: 'primary-storage' },
    // Detection takes `consecutive_probes` (3) failed health checks, then an election.
    // A key with no up-to-date secondary may stay fail-closed; writes-moved-off-faulted needs some key to move.
    expectations: [{ kind: 'writes-resume-within', intervals: 6, failClosedAllowed: true }, { kind: 'writes-moved-off-faulted', graceIntervals: 6 }],
    tuning: { storageDiskBytes: 64 * 1024 * 1024 },
    requiresRoot: true,
  },
];

export function scenarioByName(name: string): Scenario {
  const found = SCENARIOS.find((s) => s.name === name);
  if (found === undefined) throw new RangeError(`no scenario "${name}"; scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  return found;
}

/** The scenario's fault held over the whole fault phase. */
export function scenarioSchedule(scenario: Scenario, faultMs: number): HarnessEvent[] {
  if (scenario.inject === undefined) return [];
  return [
    { atMs: 0, op: 'start', fault: scenario.inject },
    { atMs: faultMs, op: 'stop', fault: scenario.inject },
  ];
}

export interface ExpectationResult {
  readonly expectation: Expectation;
  readonly valid: boolean;
  readonly detail: string;
}

/** Every checker's result plus the scenario's expectations, as one verdict. */
export function evaluateScenario(
  scenario: Scenario,
  config: TestConfig,
  checked: CheckResults,
  history: readonly Op[],
  windows: readonly FaultWindow[],
  probes: ScenarioProbes = {},
  writers: readonly StorageWrite[] = [],
): CheckResults {
  const context: ExpectationContext = { config, history, windows, probes, writers, operations: clientOperations(pairOperations(history)) };
  const results = scenario.expectations.map((e) => checkExpectation(e, context));
  const summary: CheckSummary = { valid: results.every((r) => r.valid), scenario: scenario.name, fault: scenario.fault, expected: scenario.expected, expectations: results, probes };
  const checks = { ...checked.checks, scenario: summary };
  return { ...checked, valid: checked.valid && summary.valid, checks };
}

interface ExpectationContext {
  readonly config: TestConfig;
  readonly history: readonly Op[];
  readonly windows: readonly FaultWindow[];
  readonly probes: ScenarioProbes;
  /** Who was primary after each ok write (the split-brain stand-in's observations). */
  readonly writers?: readonly StorageWrite[];
  readonly operations: readonly Operation[];
}

export function checkExpectation(expectation: Expectation, context: ExpectationContext): ExpectationResult {
  const result = (valid: boolean, detail: string): ExpectationResult => ({ expectation, valid, detail });
  const window = context.windows[0];
  const writeFs = new Set(WRITE_FS[context.config.workload]);
  const writes = context.operations.filter((o) => writeFs.has(o.f));
  const reads = context.operations.filter((o) => o.f === 'read');
  const inWindow = (o: Operation, fromMs = 0): boolean => window !== undefined && o.invoke.time >= window.start + fromMs && o.invoke.time < window.end;
  const interval = context.config.monitorIntervalMs;
  switch (expectation.kind) {
    case 'writes-resume-within':
      return writesResumeWithin(result, writes, window, expectation.intervals * interval, expectation.failClosedAllowed === true);
    case 'writes-continue': {
      const ok = writes.filter((o) => inWindow(o) && o.outcome === 'ok').length;
      return result(ok > 0, `${ok} ok writes invoked during the fault`);
    }
    case 'reads-continue': {
      const ok = reads.filter((o) => inWindow(o) && o.outcome === 'ok').length;
      return result(ok > 0, `${ok} ok reads invoked during the fault`);
    }
    case 'writes-fail-closed': {
      const affected = expectation.primaryFaulted === true ? keysWithFaultedPrimary(context, window) : undefined;
      const late = writes.filter((o) => inWindow(o, expectation.graceIntervals * interval) && (affected === undefined || affected.has(String(o.key))));
      const ok = late.filter((o) => o.outcome === 'ok').length;
      const codes = errorCodes(late.filter((o) => o.outcome !== 'ok'));
      const clear = [...codes.keys()].some((c) => expectation.codes.includes(c));
      const scope = affected === undefined ? '' : ` on ${affected.size} keys whose primary was hit`;
      return result(late.length > 0 && ok === 0 && clear, `${late.length} writes after the grace${scope}, ${ok} ok; error codes ${formatCodes(codes)}`);
    }
    case 'no-ok-writes-via-faulted-router': {
      const faulted = new Set(context.history.filter((o) => o.process === 'nemesis' && o.f === 'start').flatMap((o) => routersIn(String(o.value))));
      const bad = writes.filter((o) => inWindow(o, expectation.graceMs) && o.outcome === 'ok' && faulted.has(o.invoke.node ?? ''));
      return result(bad.length === 0, `${bad.length} ok writes through ${[...faulted].join(',') || '(no router named)'} during the fault`);
    }
    case 'writes-recover-after-heal': {
      const healed = context.history.find((o) => o.process === 'nemesis' && o.f === 'heal')?.time;
      const first = writes.filter((o) => healed !== undefined && o.invoke.time >= healed && o.outcome === 'ok').sort((a, b) => a.completion!.time - b.completion!.time)[0];
      const after = first === undefined || healed === undefined ? undefined : first.completion!.time - healed;
      return result(after !== undefined && after <= expectation.withinMs, after === undefined ? 'no ok write after the heal' : `first ok write ${after.toFixed(0)} ms after the heal`);
    }
    case 'write-errors-are': {
      // Only unknown outcomes: a definite fail is a refused precondition (two workers' writes racing on one branch).
      const codes = errorCodes(writes.filter((o) => o.outcome === 'info'));
      const other = [...codes.keys()].filter((c) => !expectation.codes.includes(c));
      return result(other.length === 0, `write error codes ${formatCodes(codes)}`);
    }
    case 'create-fails': {
      const code = context.probes.createDuringFault;
      return result(code !== undefined && expectation.codes.includes(code), `CreateRepository during the fault: ${code ?? 'not probed'}`);
    }
    case 'processes-running': {
      const down = context.probes.notRunning;
      return result(down !== undefined && down.length === 0, down === undefined ? 'not probed' : `not running: ${down.join(',') || 'none'}`);
    }
    case 'replication-toward-faulted-fails':
      return replicationTowardFaulted(result, context.probes.replication);
    case 'writes-moved-off-faulted':
      return writesMovedOff(result, context, window, expectation.graceIntervals * interval);
    case 'replicas-catch-up-after-heal': {
      const c = context.probes.catchUp;
      if (c === undefined) return result(false, 'not probed');
      const detail = `${c.outdatedAtHeal} repositories outdated at the heal; ${c.ms === null ? `${c.stillOutdated.length}+ never caught up (${c.stillOutdated.slice(0, 3).join(', ')})` : `all caught up ${c.ms} ms later`}`;
      return result(c.ms !== null && c.ms <= expectation.withinMs, detail);
    }
    case 'replicas-caught-up': {
      const outdated = context.probes.outdatedAfterRecovery;
      return result(outdated !== undefined && outdated.length === 0, outdated === undefined ? 'not probed' : `${outdated.length} repositories with outdated assigned replicas after recovery`);
    }
  }
}

/**
 * The counters name only the target, and a job from the faulted node to
 * another fails too: so no attempt toward the faulted nodes may complete,
 * and at least one attempt (toward any storage) must fail or die.
 */
function replicationTowardFaulted(result: (valid: boolean, detail: string) => ExpectationResult, probe: ReplicationProbe | undefined): ExpectationResult {
  if (probe === undefined) return result(false, 'not probed');
  const toward = outcomeDelta(probe.before, probe.after, probe.faulted);
  const all = outcomeDelta(probe.before, probe.after, targetsIn(probe));
  const missing = probe.unreachable.length > 0 ? `; /metrics unreachable on ${probe.unreachable.join(',')}` : '';
  return result(
    toward.completed === 0 && all.failed + all.dead > 0,
    `during the fault: toward ${probe.faulted.join(',') || '(none)'} ${toward.completed} completed, ${toward.failed} failed, ${toward.dead} dead; ` +
      `toward any storage ${all.completed} completed, ${all.failed} failed (retried with backoff), ${all.dead} dead${missing}`,
  );
}

function writesMovedOff(result: (valid: boolean, detail: string) => ExpectationResult, context: ExpectationContext, window: FaultWindow | undefined, graceMs: number): ExpectationResult {
  if (window === undefined) return result(false, 'no fault window');
  const hit = faultedStorages(context);
  const moved = keysWithFaultedPrimary(context, window);
  const during = (context.writers ?? []).filter((w) => (w.time ?? 0) >= window.start && (w.time ?? 0) < window.end);
  const late = during.filter((w) => (w.time ?? 0) >= window.start + graceMs);
  const onFaulted = late.filter((w) => hit.has(w.storage));
  const movedKeys = new Set(during.filter((w) => moved.has(String(w.repository)) && !hit.has(w.storage)).map((w) => String(w.repository)));
  return result(
    onFaulted.length === 0 && movedKeys.size > 0,
    `${late.length} ok writes after ${graceMs} ms, ${onFaulted.length} of them still on ${[...hit].join(',') || '(none)'}; during the fault ${movedKeys.size} of ${moved.size} keys whose primary was hit wrote on another primary`,
  );
}

function targetsIn(probe: ReplicationProbe): string[] {
  return [...new Set([...Object.keys(probe.before), ...Object.keys(probe.after)].map((key) => key.split('|')[0] ?? ''))];
}

/** Keys whose writes failed after the fault began must each see an ok write within the limit. */
function writesResumeWithin(
  result: (valid: boolean, detail: string) => ExpectationResult,
  writes: readonly Operation[],
  window: FaultWindow | undefined,
  limitMs: number,
  failClosedAllowed: boolean,
): ExpectationResult {
  if (window === undefined) return result(false, 'no fault window');
  const affected = new Map<string, Operation[]>();
  for (const o of writes) {
    if (o.invoke.time < window.start || o.invoke.time >= window.end) continue;
    const list = affected.get(String(o.key)) ?? [];
    list.push(o);
    affected.set(String(o.key), list);
  }
  const late: string[] = [];
  const closed: string[] = [];
  let checked = 0;
  for (const [key, ops] of affected) {
    // Only unknown outcomes are the fault's: a definite fail is a refused precondition (racing writers).
    if (!ops.some((o) => o.outcome === 'info')) continue;
    if (!ops.some((o) => o.invoke.time >= window.start + limitMs)) continue;
    checked++;
    const firstOk = ops.filter((o) => o.outcome === 'ok').sort((a, b) => a.completion!.time - b.completion!.time)[0];
    if (firstOk !== undefined && firstOk.completion!.time - window.start <= limitMs) continue;
    if (failClosedAllowed && failedClosedAfter(ops, window.start + limitMs)) closed.push(key);
    else late.push(key);
  }
  const closedNote = failClosedAllowed ? `; ${closed.length} stayed fail-closed (UNAVAILABLE)` : '';
  return result(late.length === 0, `${checked} keys had failing writes; ${late.length} did not resume within ${limitMs} ms${late.length > 0 ? ` (${late.slice(0, 5).join(', ')})` : ''}${closedNote}`);
}

/** No ok write invoked from `from` on, and every write from then on failed with UNAVAILABLE. */
function failedClosedAfter(ops: readonly Operation[], from: number): boolean {
  const after = ops.filter((o) => o.invoke.time >= from);
  return after.length > 0 && after.every((o) => o.outcome !== 'ok' && String(o.completion?.error ?? '').startsWith('UNAVAILABLE'));
}

function errorCodes(operations: readonly Operation[]): Map<string, number> {
  const codes = new Map<string, number>();
  for (const o of operations) {
    const error = o.completion?.error;
    const code = typeof error === 'string' ? (error.split(':')[0] ?? 'UNKNOWN') : 'NO_COMPLETION';
    codes.set(code, (codes.get(code) ?? 0) + 1);
  }
  return codes;
}

function formatCodes(codes: ReadonlyMap<string, number>): string {
  return codes.size === 0 ? '(none)' : [...codes].map(([c, n]) => `${c}×${n}`).join(', ');
}

function routersIn(description: string): string[] {
  return description.match(/praefect-\d+/g) ?? [];
}

/** Keys whose last observed primary before the fault is one of the nodes the fault hit. */
function faultedStorages(context: ExpectationContext): Set<string> {
  return new Set(context.history.filter((o) => o.process === 'nemesis' && o.f === 'start').flatMap((o) => String(o.value).match(/gitaly-\d+/g) ?? []));
}

function keysWithFaultedPrimary(context: ExpectationContext, window: FaultWindow | undefined): Set<string> {
  const hit = faultedStorages(context);
  const primary = new Map<string, string>();
  for (const w of context.writers ?? []) if (window === undefined || (w.time ?? 0) < window.start) primary.set(String(w.repository), w.storage);
  return new Set([...primary].filter(([, storage]) => hit.has(storage)).map(([key]) => key));
}

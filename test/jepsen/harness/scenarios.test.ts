// The scenario table: one named scenario per row of DESIGN §12, each with a
// fault and its expected behaviour; and each kind of expectation judged on
// small histories where it holds and where it does not.
import t from 'tap';
import { buildConfig, checkExpectation, SCENARIOS, type Expectation } from '../../../jepsen/harness/index.js';
import { pairOperations, clientOperations, type Op, type StorageWrite } from '../../../jepsen/checker/index.js';

const DESIGN_ROWS = [
  'primary storage node down',
  'secondary down',
  'node returns',
  "more than half of a repository's replicas down",
  'all secondaries down',
  'PostgreSQL down',
  'PostgreSQL slow, or its pool exhausted',
  'one router down or isolated',
  'majority of routers down',
  'all routers restart',
  'storage-to-storage partition',
  'primary crashes mid-transaction',
  'vote timeout',
  'queue grows or write load spikes',
  'storage node disk full',
];

t.test('every §12 row is a named scenario, names are unique, and each runnable one injects a fault or a load', async (t) => {
  for (const row of DESIGN_ROWS) t.ok(SCENARIOS.some((s) => s.fault.startsWith(row)), `row "${row}" has a scenario`);
  t.equal(new Set(SCENARIOS.map((s) => s.name)).size, SCENARIOS.length);
  for (const s of SCENARIOS) {
    if (s.unsupported !== undefined) {
      t.ok(s.unsupported.length > 20, `${s.name} says why it cannot run`);
      continue;
    }
    t.ok(s.inject !== undefined || s.tuning?.concurrency !== undefined, `${s.name} injects something`);
  }
  const primary = SCENARIOS.find((s) => s.name === 'primary-storage-down')!;
  t.same(
    primary.expectations,
    [
      { kind: 'writes-resume-within', intervals: 3, failClosedAllowed: true },
      { kind: 'writes-moved-off-faulted', graceIntervals: 3 },
    ],
    'writes resume within 3 probe intervals (or fail closed without another up-to-date replica), and move off the dead primary',
  );
});

const config = buildConfig({ seed: 1, routers: 3, storages: 3, timeLimitMs: 30_000, net: 'proxy', concurrency: 3, nemesisIntervalMs: 5_000, monitorIntervalMs: 250 }, 'register', 'none');
const window = { start: 1_000, end: 5_000 };

type Row = [process: number, f: string, key: string, invokeMs: number, completeMs: number, outcome: 'ok' | 'fail' | 'info', node?: string, error?: string];

function history(rows: readonly Row[], extra: readonly Omit<Op, 'index'>[] = []): Op[] {
  const ops: Omit<Op, 'index'>[] = [...extra];
  for (const [process, f, key, invokeMs, completeMs, outcome, node = 'praefect-1', error] of rows) {
    ops.push({ process, type: 'invoke', f, key, value: f === 'read' ? null : 1, time: invokeMs, node });
    ops.push({ process, type: outcome, f, key, value: 1, time: completeMs, node, ...(outcome === 'ok' ? {} : { error: error ?? 'UNAVAILABLE: down' }) });
  }
  return ops.sort((a, b) => a.time - b.time).map((op, index) => ({ ...op, index }) as Op);
}

function judge(expectation: Expectation, ops: Op[], probes = {}, writers: StorageWrite[] = []): boolean {
  return checkExpectation(expectation, { config, history: ops, windows: [window], probes, writers, operations: clientOperations(pairOperations(ops)) }).valid;
}

t.test('writes resume within N probe intervals, per key whose writes failed', async (t) => {
  const resume: Expectation = { kind: 'writes-resume-within', intervals: 3 };
  const fast: Row[] = [[0, 'write', 'a', 1_100, 1_200, 'info'], [1, 'write', 'a', 1_300, 1_600, 'ok'], [2, 'write', 'a', 2_000, 2_100, 'ok']];
  t.ok(judge(resume, history(fast)), 'an ok write 600 ms after the fault began (limit 750 ms)');
  const slow: Row[] = [[0, 'write', 'a', 1_100, 1_200, 'info'], [1, 'write', 'a', 1_300, 1_400, 'info'], [2, 'write', 'a', 2_000, 2_100, 'ok']];
  t.notOk(judge(resume, history(slow)), 'the first ok write 1100 ms after the fault began');
  const never: Row[] = [[0, 'write', 'a', 1_100, 1_200, 'info'], [1, 'write', 'a', 3_000, 3_100, 'info']];
  t.notOk(judge(resume, history(never)), 'no ok write at all');
  const untouched: Row[] = [[0, 'write', 'b', 1_100, 1_200, 'ok']];
  t.ok(judge(resume, history(untouched)), 'keys whose writes never failed are not affected');
});

t.test('writes fail closed: nothing ok after the grace, and a clear error code', async (t) => {
  const closed: Expectation = { kind: 'writes-fail-closed', graceIntervals: 1, codes: ['UNAVAILABLE'] };
  t.ok(judge(closed, history([[0, 'write', 'a', 1_100, 1_200, 'ok'], [1, 'write', 'a', 1_500, 1_600, 'info']])), 'an ok write inside the grace is allowed');
  t.notOk(judge(closed, history([[0, 'write', 'a', 1_500, 1_600, 'ok']])), 'an ok write after the grace is not');
  t.notOk(judge(closed, history([[0, 'write', 'a', 1_500, 1_600, 'info', 'praefect-1', 'INTERNAL: boom']])), 'an unclear error is not');
});

t.test('fail-closed can be limited to keys whose primary the fault hit', async (t) => {
  const closed: Expectation = { kind: 'writes-fail-closed', graceIntervals: 1, codes: ['UNAVAILABLE'], primaryFaulted: true };
  const nemesis = [{ process: 'nemesis', type: 'info' as const, f: 'start', value: 'kill storage-majority [gitaly-1,gitaly-2]', time: 1_000 }];
  const writers: StorageWrite[] = [
    { repository: 'a', generation: 1, storage: 'gitaly-1', time: 500 },
    { repository: 'b', generation: 1, storage: 'gitaly-3', time: 600 },
  ];
  const rows: Row[] = [[0, 'write', 'a', 1_500, 1_600, 'info'], [1, 'write', 'b', 1_500, 1_600, 'ok']];
  t.ok(judge(closed, history(rows, nemesis), {}, writers), 'a key whose primary survived may write');
  t.notOk(judge(closed, history([...rows, [2, 'write', 'a', 2_000, 2_100, 'ok']], nemesis), {}, writers), 'a key whose primary was killed may not');
});

t.test('a faulted router acknowledges no write; reads and writes continue elsewhere', async (t) => {
  const nemesis = [{ process: 'nemesis', type: 'info' as const, f: 'start', value: 'isolate leader-router [praefect-2]', time: 1_000 }];
  const via: Expectation = { kind: 'no-ok-writes-via-faulted-router', graceMs: 300 };
  t.ok(judge(via, history([[0, 'write', 'a', 1_500, 1_600, 'ok', 'praefect-1']], nemesis)));
  t.notOk(judge(via, history([[0, 'write', 'a', 1_500, 1_600, 'ok', 'praefect-2']], nemesis)));
  t.ok(judge({ kind: 'writes-continue' }, history([[0, 'write', 'a', 1_500, 1_600, 'ok']])));
  t.notOk(judge({ kind: 'writes-continue' }, history([[0, 'write', 'a', 500, 600, 'ok'], [0, 'write', 'a', 1_500, 1_600, 'info']])));
  t.ok(judge({ kind: 'reads-continue' }, history([[0, 'read', 'a', 1_500, 1_600, 'ok']])));
  t.notOk(judge({ kind: 'reads-continue' }, history([[0, 'read', 'a', 1_500, 1_600, 'fail']])));
});

t.test('probe-based expectations need their probe', async (t) => {
  const none = history([]);
  t.notOk(judge({ kind: 'create-fails', codes: ['UNAVAILABLE'] }, none), 'not probed is not a pass');
  t.ok(judge({ kind: 'create-fails', codes: ['UNAVAILABLE'] }, none, { createDuringFault: 'UNAVAILABLE' }));
  t.notOk(judge({ kind: 'create-fails', codes: ['UNAVAILABLE'] }, none, { createDuringFault: 'OK' }));
  t.ok(judge({ kind: 'processes-running' }, none, { notRunning: [] }));
  t.notOk(judge({ kind: 'processes-running' }, none, { notRunning: ['praefect-1'] }));
  t.notOk(judge({ kind: 'replicas-caught-up' }, none, { outdatedAfterRecovery: ['k'] }));
});

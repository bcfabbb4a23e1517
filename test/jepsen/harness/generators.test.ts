// The pure generators of a run: command-line parsing into a config, the
// phase split, seeded schedules for every harness nemesis, the key pool's
// rotation, and the history recorder's ordering.
import t from 'tap';
import {
  buildConfig,
  buildScenarioConfig,
  HARNESS_NEMESES,
  harnessSchedule,
  HistoryRecorder,
  KeyPool,
  parseCommand,
  splitTimeLimit,
  type BaseOptions,
} from '../../../jepsen/harness/index.js';
import { mulberry32 } from '../../../jepsen/net/index.js';

const seed = Number(process.env.SEED ?? 20261122);
t.comment(`SEED=${seed}`);

const base: BaseOptions = { seed, routers: 3, storages: 3, timeLimitMs: 60_000, net: 'proxy', concurrency: 5, nemesisIntervalMs: 5_000, monitorIntervalMs: 250 };
const nodes = { routers: ['praefect-1', 'praefect-2', 'praefect-3'], storages: ['gitaly-1', 'gitaly-2', 'gitaly-3'], postgres: 'postgres' };

t.test('the issue command line parses into a run of that workload, nemesis, limit, seed and router count', async (t) => {
  const command = parseCommand(['--workload', 'append', '--nemesis', 'partition-halves', '--time-limit', '60', '--seed', '7', '--routers', '5']);
  if (command.kind !== 'run') throw new Error(`expected a run, got ${command.kind}`);
  t.equal(command.config.workload, 'append');
  t.equal(command.config.nemesis, 'partition-halves');
  t.equal(command.config.timeLimitMs, 60_000);
  t.equal(command.config.seed, 7);
  t.equal(command.config.routers, 5);
  t.equal(command.config.warmupMs + command.config.faultMs + command.config.recoveryMs, 60_000, 'the phases fill the time limit');
  t.ok(command.config.schedule.length > 0, 'a partition nemesis schedules faults');
  for (const event of command.config.schedule) t.ok(event.atMs <= command.config.faultMs, 'every event within the fault phase');
});

t.test('recheck, suite and bad arguments', async (t) => {
  t.same(parseCommand(['--recheck', '/tmp/x']), { kind: 'recheck', dir: '/tmp/x' });
  const suite = parseCommand(['--suite', '--only', 'secondary-down,postgres-down']);
  if (suite.kind !== 'suite') throw new Error('expected a suite');
  t.same(suite.only, ['secondary-down', 'postgres-down']);
  t.equal(suite.base.timeLimitMs, 30_000, 'suite runs default to 30 s each');
  t.throws(() => parseCommand(['--workload', 'bank']), { code: 'JEPSEN_USAGE' });
  t.throws(() => parseCommand(['--routers', 'three']), { code: 'JEPSEN_USAGE' });
  t.throws(() => parseCommand(['--seed']), { code: 'JEPSEN_USAGE' });
  t.throws(() => parseCommand(['stray']), { code: 'JEPSEN_USAGE' });
  t.throws(() => parseCommand(['--scenario', 'storage-to-storage-partition']), { code: 'JEPSEN_NOT_RUNNABLE' }, 'a netns-only scenario under the proxy backend');
  t.throws(() => parseCommand(['--scenario', 'no-such-scenario']), /no scenario/);
});

t.test('the phase split keeps at least 5 s of recovery', async (t) => {
  t.same(splitTimeLimit(60_000), { warmupMs: 9_000, faultMs: 36_000, recoveryMs: 15_000 });
  const short = splitTimeLimit(10_000);
  t.equal(short.recoveryMs, 5_000);
  t.equal(short.warmupMs + short.faultMs + short.recoveryMs, 10_000);
});

t.test('every harness nemesis schedules deterministically from the seed, on the right nodes', async (t) => {
  for (const nemesis of HARNESS_NEMESES) {
    const options = { nemesis, nodes, seed, intervalMs: 2_000, timeLimitMs: 30_000 };
    const schedule = harnessSchedule(options);
    t.same(harnessSchedule(options), schedule, `${nemesis} replays`);
    if (nemesis === 'none') {
      t.same(schedule, []);
      continue;
    }
    t.ok(schedule.length >= 2, `${nemesis} has faults`);
    for (let i = 0; i < schedule.length; i++) t.equal(schedule[i]!.op, i % 2 === 0 ? 'start' : 'stop');
    const hit = new Set(schedule.flatMap((e) => ('nodes' in e.fault ? [...e.fault.nodes] : [])));
    if (nemesis.startsWith('storage-')) t.ok([...hit].every((n) => n.startsWith('gitaly-')), `${nemesis} hits storage nodes only`);
    if (nemesis.startsWith('postgres-')) t.same([...hit], ['postgres'], `${nemesis} hits PostgreSQL only`);
    if (nemesis === 'kill' || nemesis === 'pause') t.ok([...hit].every((n) => n.startsWith('praefect-')), `${nemesis} hits routers`);
  }
});

t.test('a scenario run holds its one fault over the whole fault phase', async (t) => {
  const config = buildScenarioConfig(base, 'primary-storage-down');
  t.equal(config.scenario, 'primary-storage-down');
  t.equal(config.schedule.length, 2);
  t.same(config.schedule.map((e) => [e.atMs, e.op]), [[0, 'start'], [config.faultMs, 'stop']]);
  t.same(config.schedule[0]!.fault, { kind: 'kill-role', role: 'primary-storage' });
  t.equal(buildConfig(base, 'register', 'none').schedule.length, 0);
});

t.test('the key pool rotates to fresh repositories after opsPerKey operations and drops keys it could not make', async (t) => {
  const rng = mulberry32(seed);
  let made = 0;
  const failures: string[] = [];
  const pool = new KeyPool<number>({
    prefix: 'p',
    liveKeys: 2,
    opsPerKey: 3,
    create: async (key) => {
      made++;
      if (made === 2) throw new Error(`cannot make ${key}`);
      return made;
    },
    onSetupFailure: (key) => failures.push(key),
  });
  const taken: string[] = [];
  for (let i = 0; i < 12; i++) {
    const live = await pool.take(rng);
    if (live !== undefined) taken.push(live.key);
  }
  const counts = new Map<string, number>();
  for (const key of taken) counts.set(key, (counts.get(key) ?? 0) + 1);
  for (const [key, n] of counts) t.ok(n <= 3, `${key} took ${n} <= 3 operations`);
  t.same(failures, ['p-2.git'], 'the key whose setup failed is dropped');
  t.notOk(taken.includes('p-2.git'));
  t.same(pool.keys(), [...counts.keys()].sort((a, b) => Number(a.slice(2, -4)) - Number(b.slice(2, -4))));
});

t.test('the recorder numbers events in order and notes nemesis events as standalone info ops', async (t) => {
  const recorder = new HistoryRecorder(5);
  const invocation = { process: 0, f: 'write', key: 'k', value: 1, node: 'praefect-1' };
  recorder.invoke(invocation);
  recorder.nemesis('start', 'isolate praefect-1');
  recorder.complete(invocation, 'info', 1, 'UNAVAILABLE: x');
  const history = recorder.history();
  t.same(history.map((o) => o.index), [0, 1, 2]);
  t.ok(history[0]!.time <= history[2]!.time);
  t.match(history[1], { process: 'nemesis', type: 'info', f: 'start', value: 'isolate praefect-1' });
  t.match(history[2], { type: 'info', error: 'UNAVAILABLE: x', node: 'praefect-1' });
  recorder.invoke(invocation);
  recorder.complete(invocation, 'ok', 1);
  t.throws(() => recorder.nemesis('stop', 'x'), { code: 'JEPSEN_HISTORY_LIMIT' });
});

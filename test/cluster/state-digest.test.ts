// The applied-state digest: a pure function of the replicated state, so
// replicas fed the same entries agree, one different entry shows, and a
// snapshot restore or a LevelDB reopen (which reorders records) keeps it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createRepositoryBody } from './harness.js';
import {
  ClusterQueries,
  ClusterState,
  encodeCommand,
  LevelClusterStateMachine,
  MemoryClusterStateMachine,
  stateDigest,
  type ClusterCommand,
  type CommandBody,
} from '../../src/cluster/index.js';
import type { AppliedCommand } from '../../src/raft/state-machine.js';

const root = mkdtempSync(join(tmpdir(), 'cluster-digest-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));

const STAMP_MS = 1_700_000_000_000;
function entries(bodies: readonly (CommandBody | undefined)[], from = 1): AppliedCommand[] {
  return bodies.map((body, k) => ({
    index: from + k,
    term: 1,
    payload: body && encodeCommand({ ...body, router: (from + k) % 2 === 0 ? 'r1' : 'r2', stampMs: STAMP_MS + 100 * (from + k) } as ClusterCommand),
  }));
}

const create = createRepositoryBody;

/** Repositories 9 then 10 (LevelDB's delta keys sort "r/10" before "r/9"), health from two routers, a bump, an intent, settings. */
const BODIES: (CommandBody | undefined)[] = [
  { type: 'health-update', reports: [{ virtualStorage: 'default', storage: 'g1', healthy: true }, { virtualStorage: 'default', storage: 'g2', healthy: true }] },
  { type: 'health-update', reports: [{ virtualStorage: 'default', storage: 'g2', healthy: false }, { virtualStorage: 'default', storage: 'g1', healthy: true }] },
  create(9),
  create(10, 'g2'),
  undefined,
  { type: 'bump-generation', repositoryId: 9, primary: 'g1', generation: 0, intentId: null, updatedSecondaries: [] },
  { type: 'record-write-intent', repositoryId: 9, intentId: 'w', primary: 'g1', generation: 1 },
  { type: 'set-settings', activityWindowMs: 7_000 },
];

t.test('two state machines fed the same entries agree, at the same index', async (t) => {
  const a = new MemoryClusterStateMachine();
  const b = new MemoryClusterStateMachine();
  await a.apply(entries(BODIES));
  // Same entries in two batches: batching is not state.
  await b.apply(entries(BODIES.slice(0, 3)));
  await b.apply(entries(BODIES.slice(3), 4));
  const da = await a.stateDigest();
  t.same(await b.stateDigest(), da);
  t.equal(da.index, BODIES.length);
  t.match(da.digest, /^[0-9a-f]{64}$/);
  t.same(await a.view.stateDigest(), da, 'the view answers through its state machine');
  t.not((await new MemoryClusterStateMachine().stateDigest()).digest, da.digest, 'an empty state differs');
});

t.test('one different entry gives a different digest', async (t) => {
  const base = new MemoryClusterStateMachine();
  await base.apply(entries(BODIES));
  const variants: [string, CommandBody][] = [
    ['another primary', create(10, 'g1')],
    ['another repository id', create(11, 'g2')],
  ];
  for (const [name, changed] of variants) {
    const other = new MemoryClusterStateMachine();
    const bodies = [...BODIES];
    bodies[3] = changed;
    await other.apply(entries(bodies));
    t.not((await other.stateDigest()).digest, (await base.stateDigest()).digest, name);
  }
  const later = new MemoryClusterStateMachine();
  await later.apply(entries([...BODIES, { type: 'set-settings', activityWindowMs: 8_000 }]));
  t.not((await later.stateDigest()).digest, (await base.stateDigest()).digest, 'one more entry');
  const noop = new MemoryClusterStateMachine();
  await noop.apply(entries([...BODIES, undefined]));
  t.equal((await noop.stateDigest()).digest, (await base.stateDigest()).digest, 'a no-op entry changes the index, not the state');
  t.equal((await noop.stateDigest()).index, BODIES.length + 1);
});

t.test('a snapshot restore keeps the digest, in memory and on LevelDB', async (t) => {
  const source = new MemoryClusterStateMachine();
  await source.apply(entries(BODIES));
  const expected = await source.stateDigest();
  const snapshot = await source.snapshot();
  const meta = { index: snapshot.index, term: 1, confState: { voters: [1], learners: [] } };
  const memory = new MemoryClusterStateMachine();
  await memory.restore({ meta, data: snapshot.data });
  t.same(await memory.stateDigest(), expected);
  const level = await LevelClusterStateMachine.open(mkdtempSync(join(root, 'db-')));
  t.teardown(() => level.close());
  await level.restore({ meta, data: snapshot.data });
  t.same(await level.stateDigest(), expected);
});

t.test('a LevelDB reopen reorders records but keeps the digest', async (t) => {
  const dir = mkdtempSync(join(root, 'db-'));
  const first = await LevelClusterStateMachine.open(dir);
  await first.apply(entries(BODIES));
  const before = await first.stateDigest();
  const orderBefore = [...first.state.repositories.keys()];
  await first.close();
  const reopened = await LevelClusterStateMachine.open(dir);
  t.teardown(() => reopened.close());
  t.not(JSON.stringify([...reopened.state.repositories.keys()]), JSON.stringify(orderBefore), 'the reopened state holds its records in another order (the case a hash of snapshot bytes gets wrong)');
  t.same(await reopened.stateDigest(), before);
  const memory = new MemoryClusterStateMachine();
  await memory.apply(entries(BODIES));
  t.same(await memory.stateDigest(), before, 'the LevelDB and memory state machines agree');
});

t.test('the LevelDB digest waits for the apply in progress, so its index matches its state', async (t) => {
  const machine = await LevelClusterStateMachine.open(mkdtempSync(join(root, 'db-')));
  t.teardown(() => machine.close());
  const applying = machine.apply(entries(BODIES));
  const digest = await machine.stateDigest();
  await applying;
  t.same(digest, await machine.stateDigest(), 'asked mid-apply, it answers for the finished batch');
  t.equal(digest.index, BODIES.length);
});

t.test('a bare view has no applied index to digest at', async (t) => {
  const state = new ClusterState();
  await t.rejects(new ClusterQueries(state).stateDigest(), { code: 'CLUSTER_VIEW_UNSUPPORTED' });
  t.match(stateDigest(state), /^[0-9a-f]{64}$/, 'the pure function still digests it');
});

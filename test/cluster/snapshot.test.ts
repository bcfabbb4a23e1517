import { pack, unpack } from 'msgpackr';
import t from 'tap';
import { decodeSnapshot, encodeSnapshot, MemoryClusterStateMachine, SNAPSHOT_VERSION } from '../../src/cluster/index.js';
import { dumpState, Harness } from './harness.js';

/** A state with something of everything: routers with views and offsets, settings, two virtual storages, intents, custom paths. */
function varied(): Harness {
  const h = new Harness();
  h.report(['r1', 'r2'], ['g1', 'g2', 'g3'], ['g3']);
  h.run('r3', { type: 'liveness-refresh' }, h.nowMs + 3_600_000);
  h.run('r1', { type: 'set-settings', activityWindowMs: 5_000 });
  h.create(1, 'g1', ['g1', 'g2', 'g3'], ['g2']);
  h.create(2, 'g2', [], [], 'ünïcödé/päth.git');
  h.run('r1', { type: 'create-repository', repositoryId: 3, virtualStorage: 'other', relativePath: 'x.git', replicaPath: '@cluster/repositories/4e/07/3', primary: 'g9', assigned: [], updatedSecondaries: [] });
  h.run('r1', { type: 'bump-generation', repositoryId: 1, primary: 'g1', generation: 0, intentId: null, updatedSecondaries: [] });
  h.run('r2', { type: 'record-write-intent', repositoryId: 1, intentId: 'w-1', primary: 'g1', generation: 1 });
  h.run('r2', { type: 'record-write-intent', repositoryId: 1, intentId: 'w-2', primary: 'g1', generation: 1 });
  return h;
}

t.test('a snapshot restores an identical state, and re-encodes to the same bytes', async (t) => {
  const h = varied();
  const bytes = encodeSnapshot(h.state, 42);
  const { index, state } = decodeSnapshot(bytes);
  t.equal(index, 42);
  t.strictSame(dumpState(state), dumpState(h.state));
  t.same(encodeSnapshot(state, 42), bytes);
  t.equal(state.repository(3)!.customReplicaPath, undefined, "upstream's derived path stays implicit");
});

t.test('an empty state round-trips', async (t) => {
  const h = new Harness();
  const { state } = decodeSnapshot(encodeSnapshot(h.state, 0));
  t.strictSame(dumpState(state), dumpState(h.state));
});

t.test('a state machine restored from a snapshot answers as the original, through the same view object', async (t) => {
  const source = varied();
  const machine = new MemoryClusterStateMachine();
  const view = machine.view;
  await machine.restore({ meta: { index: 7, term: 1, confState: { voters: [1], learners: [] } }, data: encodeSnapshot(source.state, 7) });
  t.equal(machine.appliedIndex(), 7);
  t.strictSame(view.repository(1), source.view.repository(1));
  t.strictSame(view.dataloss({ partiallyUnavailable: true }), source.view.dataloss({ partiallyUnavailable: true }));
  t.strictSame((await machine.snapshot()).data, encodeSnapshot(source.state, 7));
  await t.rejects(machine.restore({ meta: { index: 8, term: 1, confState: { voters: [1], learners: [] } }, data: encodeSnapshot(source.state, 7) }), { code: 'CLUSTER_INVARIANT' });
});

t.test('malformed snapshots are refused with a reason', async (t) => {
  const good = unpack(encodeSnapshot(varied().state, 1)) as Record<string, unknown>;
  const bad = (patch: Record<string, unknown>) => pack({ ...good, ...patch });
  const repositories = good.repositories as Record<string, unknown>;
  const cases: [Uint8Array, RegExp][] = [
    [new Uint8Array([0x81]), /not msgpack/],
    [bad({ format: 'kv' }), /format is kv/],
    [bad({ version: SNAPSHOT_VERSION + 1 }), /version 2 is not readable/],
    [bad({ storages: [1] }), /storages is not a list of strings/],
    [bad({ repositories: { ...repositories, ids: new Uint8Array(3) } }), /ids holds 3 bytes, expected 24/],
    [bad({ repositories: { ...repositories, relativePaths: new Uint8Array([97]) } }), /1 relative paths for 3 repositories/],
    [bad({ repositories: { ...repositories, relativePaths: 'a' } }), /relativePaths is not bytes/],
    [bad({ storages: ['g1'] }), /names unknown storage/],
    [bad({ routers: [['r1']] }), /router row is malformed/],
  ];
  for (const [bytes, reason] of cases) t.throws(() => decodeSnapshot(bytes), { code: 'CLUSTER_BAD_SNAPSHOT', message: reason }, String(reason));
});

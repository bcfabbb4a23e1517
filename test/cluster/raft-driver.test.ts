import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import {
  encodeCommand,
  LevelClusterStateMachine,
  type ClusterCommand,
  type CommandBody,
  type CommandType,
  type ResultByType,
} from '../../src/cluster/index.js';
import { RaftDriver, type RaftTransportPort } from '../../src/raft/index.js';
import { MemoryLogStore } from '../../src/storage/index.js';
import { dumpState } from './harness.js';

// The cluster state machine under the real Raft driver: one voter, an
// in-memory log, a transport that goes nowhere. Real encoded commands go in
// as proposals and their typed apply results come back to the proposer.
const root = mkdtempSync(join(tmpdir(), 'cluster-raft-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));

const transport: RaftTransportPort = { send() {}, onMessage() {}, onUnreachable() {} };

async function startNode(store: MemoryLogStore, machine: LevelClusterStateMachine): Promise<RaftDriver> {
  let becameLeader!: () => void;
  const leader = new Promise<void>((resolve) => (becameLeader = resolve));
  const driver = new RaftDriver({
    id: 1,
    store,
    stateMachine: machine,
    transport,
    bootstrapVoters: [1],
    tickMs: 5,
    seed: 7,
    snapshotEveryEntries: 20,
    compactionKeepEntries: 5,
    onSoftState: (state) => state.role === 'leader' && becameLeader(),
  });
  await driver.start();
  await leader;
  return driver;
}

type Body<T extends CommandType> = CommandBody<Extract<ClusterCommand, { type: T }>> & { type: T };

function propose<T extends CommandType>(driver: RaftDriver, router: string, body: Body<T>): Promise<ResultByType[T]> {
  return driver.propose(encodeCommand({ ...body, router, stampMs: Date.now() } as ClusterCommand)) as Promise<ResultByType[T]>;
}

const ORDER = ['g1', 'g2', 'g3'];
const health = (down: string[]): Body<'health-update'> => ({
  type: 'health-update',
  reports: ORDER.map((storage) => ({ virtualStorage: 'default', storage, healthy: !down.includes(storage) })),
});

t.test('proposed commands apply through Raft and resolve with their results; a restart restores from the snapshot', async (t) => {
  const store = new MemoryLogStore();
  const machine = await LevelClusterStateMachine.open(mkdtempSync(join(root, 'sm-')));
  const driver = await startNode(store, machine);

  await Promise.all(['r1', 'r2', 'r3'].map((router) => propose(driver, router, health([]))));
  t.strictSame(
    await propose(driver, 'r1', { type: 'create-repository', repositoryId: 1, virtualStorage: 'default', relativePath: 'a.git', replicaPath: 'a', primary: 'g1', assigned: ORDER, updatedSecondaries: ['g2', 'g3'] }),
    { status: 'ok' },
  );

  // g1 fails; two routers elect at once with the same expected primary: one wins, the other learns the winner.
  await Promise.all(['r1', 'r2', 'r3'].map((router) => propose(driver, router, health(['g1']))));
  const [a, b] = await Promise.all([
    propose(driver, 'r1', { type: 'elect-primary', repositoryId: 1, expectedPrimary: 'g1', storageOrder: ORDER }),
    propose(driver, 'r2', { type: 'elect-primary', repositoryId: 1, expectedPrimary: 'g1', storageOrder: ['g3', 'g2', 'g1'] }),
  ]);
  t.strictSame(a, { status: 'ok', primary: 'g2', previous: 'g1', changed: true });
  t.strictSame(b, { status: 'conflict', reason: 'primary-changed', currentPrimary: 'g2' });

  // A write: fresh routing after a ReadIndex, the intent, then the bump that clears it.
  await driver.linearizableRead();
  const route = machine.view.writeRoute(1, ORDER);
  t.strictSame(route, { kind: 'primary', primary: 'g2', generation: 0 });
  t.strictSame(await propose(driver, 'r3', { type: 'record-write-intent', repositoryId: 1, intentId: 'w-1', primary: 'g2', generation: 0 }), { status: 'ok' });
  t.strictSame(await propose(driver, 'r3', { type: 'bump-generation', repositoryId: 1, primary: 'g2', generation: 0, intentId: 'w-1', updatedSecondaries: ['g3'] }), {
    status: 'ok',
    generation: 1,
    bumpedSecondaries: ['g3'],
  });
  t.strictSame(await propose(driver, 'r3', { type: 'bump-generation', repositoryId: 1, primary: 'g1', generation: 0, intentId: null, updatedSecondaries: [] }), {
    status: 'conflict',
    reason: 'primary-changed',
    currentPrimary: 'g2',
    currentGeneration: 1,
    latestGeneration: 1,
  });
  t.match(await driver.propose(new Uint8Array([0x81])), { status: 'invalid', field: 'payload' }, 'a bad payload applies as an invalid result on every replica');

  // Enough entries for the driver to snapshot and compact its log.
  await Promise.all(Array.from({ length: 40 }, (_, i) => propose(driver, 'r1', { type: 'create-repository', repositoryId: 100 + i, virtualStorage: 'default', relativePath: `bulk/${i}.git`, replicaPath: `b/${i}`, primary: 'g2', assigned: [], updatedSecondaries: [] })));
  await driver.linearizableRead();
  t.equal(machine.view.repositoryCount(), 41);
  const before = dumpState(machine.state);
  const applied = machine.appliedIndex();
  await driver.stop();
  await machine.close();
  const image = store.durableImage();
  t.ok(image.snapshot.meta.index > 0, `the driver took a snapshot at ${image.snapshot.meta.index}`);

  // A restart from the durable log with an empty state machine: restore from the snapshot, replay the rest.
  const restartedMachine = await LevelClusterStateMachine.open(mkdtempSync(join(root, 'sm-')));
  const restarted = await startNode(MemoryLogStore.fromImage(image), restartedMachine);
  t.teardown(async () => {
    await restarted.stop();
    await restartedMachine.close();
  });
  await restarted.linearizableRead();
  t.ok(restartedMachine.appliedIndex() >= applied);
  t.strictSame(dumpState(restartedMachine.state), before, 'the same state: repositories, generations, primaries, routers and cluster time');
});

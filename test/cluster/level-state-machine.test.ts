import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import t from 'tap';
import { createRepositoryBody } from './harness.js';
import type { Test } from 'tap';
import { encodeCommand, LevelClusterStateMachine, MemoryClusterStateMachine, type ClusterCommand, type CommandBody } from '../../src/cluster/index.js';
import type { AppliedCommand } from '../../src/raft/state-machine.js';
import { dumpState } from './harness.js';

const root = mkdtempSync(join(tmpdir(), 'cluster-sm-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));
const freshDir = () => mkdtempSync(join(root, 'db-'));

async function open(t: Test, dir = freshDir()): Promise<LevelClusterStateMachine> {
  const machine = await LevelClusterStateMachine.open(dir);
  t.teardown(() => machine.close());
  return machine;
}

let stampMs = 1_700_000_000_000;
function entry(index: number, body: CommandBody | undefined, router = 'r1'): AppliedCommand {
  stampMs += 100;
  return { index, term: 1, payload: body && encodeCommand({ ...body, router, stampMs } as ClusterCommand) };
}

const create = createRepositoryBody;

/** A batch with something of everything, starting at `from`. */
function batch(from: number): AppliedCommand[] {
  const bodies: (CommandBody | undefined)[] = [
    { type: 'health-update', reports: [{ virtualStorage: 'default', storage: 'g1', healthy: true }] },
    create(1),
    create(2, 'g2'),
    create(3),
    undefined,
    { type: 'bump-generation', repositoryId: 1, primary: 'g1', generation: 0, intentId: null, updatedSecondaries: [] },
    { type: 'record-write-intent', repositoryId: 1, intentId: 'w', primary: 'g1', generation: 1 },
    { type: 'delete-repository', repositoryId: 3 },
    { type: 'set-settings', activityWindowMs: 7_000 },
  ];
  return bodies.map((body, k) => entry(from + k, body));
}

t.test('apply returns typed results and the reopened folder holds the identical state', async (t) => {
  const dir = freshDir();
  const machine = await LevelClusterStateMachine.open(dir);
  const results = await machine.apply(batch(1));
  t.match(results, [{ status: 'ok' }, { status: 'ok' }, { status: 'ok' }, { status: 'ok' }, undefined, { status: 'ok', generation: 1 }, { status: 'ok' }, { status: 'ok' }, { status: 'ok' }]);
  const [invalid] = await machine.apply([{ index: 10, term: 1, payload: new Uint8Array([0x81]) }]);
  t.match(invalid, { status: 'invalid', code: 'CLUSTER_BAD_COMMAND', field: 'payload' }, 'a malformed payload is a result, not a throw');
  const before = dumpState(machine.state);
  await machine.close();

  const again = await open(t, dir);
  t.equal(again.appliedIndex(), 10);
  t.strictSame(dumpState(again.state), before);
  t.equal(again.view.repository(3), undefined, 'the delete persisted');
  t.strictSame(again.view.repository(1)!.writeIntents.map((i) => i.intentId), ['w']);
  t.match(await again.apply([entry(11, { type: 'bump-generation', repositoryId: 1, primary: 'g1', generation: 1, intentId: 'w', updatedSecondaries: [] })]), [{ status: 'ok', generation: 2 }]);
});

t.test('the LevelDB and in-memory machines agree, snapshot bytes included', async (t) => {
  const level = await open(t);
  const memory = new MemoryClusterStateMachine();
  const entries = batch(1);
  t.strictSame(await level.apply(entries), await memory.apply(entries));
  t.strictSame(dumpState(level.state), dumpState(memory.state));
  t.same((await level.snapshot()).data, (await memory.snapshot()).data);
});

t.test('re-applying or skipping entries is refused and changes nothing', async (t) => {
  const machine = await open(t);
  await machine.apply(batch(1));
  const before = dumpState(machine.state);
  await t.rejects(machine.apply([entry(9, create(7))]), { code: 'CLUSTER_INVARIANT' });
  await t.rejects(machine.apply([entry(11, create(7))]), { code: 'CLUSTER_INVARIANT' });
  t.strictSame(dumpState(machine.state), before);
  t.equal(machine.appliedIndex(), 9);
});

t.test('restore replaces everything, on disk too', async (t) => {
  const source = new MemoryClusterStateMachine();
  await source.apply([entry(1, create(10)), entry(2, create(11))]);
  const image = await source.snapshot();
  const dir = freshDir();
  const machine = await LevelClusterStateMachine.open(dir);
  await machine.apply(batch(1));
  const view = machine.view;
  await machine.restore({ meta: { index: image.index, term: 1, confState: { voters: [1], learners: [] } }, data: image.data });
  t.equal(machine.appliedIndex(), 2);
  t.strictSame([view.repositoryCount(), view.repository(1), view.repository(10)?.primary], [2, undefined, 'g1'], 'readers holding the old view see the restored state');
  await machine.close();
  const again = await open(t, dir);
  t.equal(again.appliedIndex(), 2);
  t.strictSame(dumpState(again.state), dumpState(source.state));
});

t.test('deltas fold into a new base; the reopened folder is the same before and after', async (t) => {
  const dir = freshDir();
  const machine = await LevelClusterStateMachine.open(dir, { checkpointAfterDeltas: 2 });
  await machine.apply(batch(1));
  const before = dumpState(machine.state);
  await machine.close();
  const db = new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
  const keys = [];
  for await (const key of db.keys()) keys.push(key);
  await db.close();
  t.ok(keys.some((key) => key.startsWith('b/')), 'a base image was written');
  t.notOk(keys.some((key) => key.startsWith('r/')), 'its deltas were dropped with the switch');
  const again = await open(t, dir);
  t.strictSame(dumpState(again.state), before);
  await again.apply([entry(10, create(20))]);
  t.equal(again.view.repository(20)?.primary, 'g1', 'later changes go on as deltas over the base');
});

t.test('chunks of a base that was never switched to are ignored and removed', async (t) => {
  const dir = freshDir();
  const machine = await LevelClusterStateMachine.open(dir);
  await machine.apply(batch(1));
  const before = dumpState(machine.state);
  await machine.close();
  const db = new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
  await db.put('b/0000000099/000000', new Uint8Array([1, 2, 3]));
  await db.close();
  const again = await LevelClusterStateMachine.open(dir);
  t.strictSame(dumpState(again.state), before);
  await again.close();
  const check = new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
  t.equal(await check.get('b/0000000099/000000'), undefined);
  await check.close();
});

t.test('a damaged folder is refused with a reason', async (t) => {
  const dir = freshDir();
  const machine = await LevelClusterStateMachine.open(dir);
  await machine.apply(batch(1));
  await machine.close();
  const db = new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
  await db.put('r/1', new Uint8Array([0x93, 1, 2, 3]));
  await db.close();
  await t.rejects(LevelClusterStateMachine.open(dir), { code: 'CLUSTER_BAD_STORED_STATE', message: /repository 1/ });
});

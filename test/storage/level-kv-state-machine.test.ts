import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack } from 'msgpackr';
import t from 'tap';
import type { Test } from 'tap';
import type { AppliedCommand } from '../../src/raft/state-machine.js';
import { KvCommandError, LevelKvStateMachine, decodeKvCommand, encodeKvCommand } from '../../src/storage/index.js';
import type { KvCommand } from '../../src/storage/index.js';

const INVARIANT = { code: 'RAFT_INVARIANT' };

function cmd(index: number, command: KvCommand | undefined, term = 1): AppliedCommand {
  return { index, term, payload: command === undefined ? undefined : encodeKvCommand(command) };
}
const put = (key: string, value: string): KvCommand => ({ op: 'put', key, value });
const get = (key: string): KvCommand => ({ op: 'get', key });

// Tests need several LevelDB folders each, which t.testdir() does not give.
// Removed once every subtest (and its close()) is done.
const root = mkdtempSync(join(tmpdir(), 'kv-sm-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));

function freshDir(): string {
  return mkdtempSync(join(root, 'db-'));
}

async function open(t: Test, dir = freshDir()): Promise<LevelKvStateMachine> {
  const sm = await LevelKvStateMachine.open(dir);
  t.teardown(() => sm.close());
  return sm;
}

t.test('commands round-trip through their encoding', async (t) => {
  for (const command of [put('k', 'v'), get('k'), put('', ''), put('ключ', 'värde')]) {
    t.strictSame(decodeKvCommand(encodeKvCommand(command)), command);
  }
  t.throws(() => decodeKvCommand(new Uint8Array([0xc1])), { code: 'KV_BAD_COMMAND' });
  for (const bad of [{ op: 'del', key: 'k' }, { op: 'put', key: 'k' }, { op: 'get', key: 1 }, 'put', null]) {
    t.throws(() => decodeKvCommand(pack(bad)), { code: 'KV_BAD_COMMAND' }, JSON.stringify(bad));
  }
});

t.test('apply returns previous values and advances the applied index', async (t) => {
  const sm = await open(t);
  t.equal(sm.appliedIndex(), 0);
  const results = await sm.apply([
    cmd(1, put('a', '1')),
    cmd(2, put('a', '2')),
    cmd(3, get('a')),
    cmd(4, undefined),
    cmd(5, get('missing')),
    { index: 6, term: 1, payload: new Uint8Array([1, 2, 3]) },
  ]);
  t.equal(results.length, 6);
  t.strictSame(results.slice(0, 5), [undefined, '1', '2', undefined, undefined]);
  t.ok(results[5] instanceof KvCommandError, 'a malformed payload yields an error result, not a throw');
  t.equal(sm.appliedIndex(), 6);
  t.equal(await sm.get('a'), '2');
  t.strictSame(await sm.apply([cmd(7, undefined)]), [undefined], 'an entry without payload only advances the index');
  t.equal(sm.appliedIndex(), 7);
  t.strictSame(await sm.apply([]), []);
});

t.test('data and applied index survive a reopen together', async (t) => {
  const dir = freshDir();
  const sm = await LevelKvStateMachine.open(dir);
  await sm.apply([cmd(1, put('x', 'one')), cmd(2, put('y', 'two'))]);
  await sm.apply([cmd(3, put('x', 'three'))]);
  await sm.close();
  const again = await open(t, dir);
  t.equal(again.appliedIndex(), 3);
  t.equal(await again.get('x'), 'three');
  t.equal(await again.get('y'), 'two');
  t.strictSame(await again.apply([cmd(4, put('x', 'four'))]), ['three']);
});

t.test('re-applying or skipping entries is refused and changes nothing', async (t) => {
  const sm = await open(t);
  await sm.apply([cmd(1, put('k', 'a')), cmd(2, put('k', 'b'))]);
  await t.rejects(sm.apply([cmd(2, put('k', 'again'))]), INVARIANT, 'an entry at the applied index');
  await t.rejects(sm.apply([cmd(1, put('k', 'again')), cmd(2, put('k', 'x')), cmd(3, put('k', 'x'))]), INVARIANT, 'a batch starting below');
  await t.rejects(sm.apply([cmd(4, put('k', 'gap'))]), INVARIANT, 'a gap');
  await t.rejects(sm.apply([cmd(3, put('k', 'c')), cmd(5, put('k', 'gap'))]), INVARIANT, 'a gap inside the batch');
  t.equal(sm.appliedIndex(), 2);
  t.equal(await sm.get('k'), 'b');
  t.strictSame(await sm.apply([cmd(3, get('k'))]), ['b'], 'the next entry still applies');
});

t.test('concurrent applies run in call order', async (t) => {
  const sm = await open(t);
  const applies = Array.from({ length: 20 }, (_, k) => sm.apply([cmd(k + 1, put('n', String(k + 1)))]));
  const results = await Promise.all(applies);
  t.strictSame(results, Array.from({ length: 20 }, (_, k) => [k === 0 ? undefined : String(k)]));
  t.equal(sm.appliedIndex(), 20);
});

t.test('snapshot and restore round-trip, replacing everything', async (t) => {
  const source = await open(t);
  await source.apply([cmd(1, put('a', '1')), cmd(2, put('b', '2')), cmd(3, put('ü/ñ', '∂')), cmd(4, put('a', '4'))]);
  const image = await source.snapshot();
  t.equal(image.index, 4);
  await source.apply([cmd(5, put('a', 'later'))]);

  const target = await open(t);
  await target.apply([cmd(1, put('stale', 'x')), cmd(2, put('a', 'old'))]);
  await target.restore({ meta: { index: image.index, term: 1, confState: { voters: [1], learners: [] } }, data: image.data });
  t.equal(target.appliedIndex(), 4);
  t.equal(await target.get('a'), '4', 'the snapshot is the state at its index');
  t.equal(await target.get('b'), '2');
  t.equal(await target.get('ü/ñ'), '∂');
  t.equal(await target.get('stale'), undefined, 'keys absent from the snapshot are gone');
  t.strictSame(await target.apply([cmd(5, put('b', 'five'))]), ['2']);
  const again = await target.snapshot();
  const fresh = await open(t);
  await fresh.restore({ meta: { index: again.index, term: 1, confState: { voters: [1], learners: [] } }, data: again.data });
  t.strictSame(
    [await fresh.get('a'), await fresh.get('b'), fresh.appliedIndex()],
    ['4', 'five', 5],
    'a restored machine snapshots the same state',
  );
});

t.test('a restore survives a reopen', async (t) => {
  const dir = freshDir();
  const source = await open(t);
  await source.apply([cmd(1, put('k', 'v'))]);
  const image = await source.snapshot();
  const sm = await LevelKvStateMachine.open(dir);
  await sm.apply([cmd(1, put('gone', 'x'))]);
  await sm.restore({ meta: { index: 1, term: 1, confState: { voters: [1], learners: [] } }, data: image.data });
  await sm.close();
  const again = await open(t, dir);
  t.equal(again.appliedIndex(), 1);
  t.equal(await again.get('k'), 'v');
  t.equal(await again.get('gone'), undefined);
});

t.test('a snapshot whose meta disagrees with its data is refused', async (t) => {
  const source = await open(t);
  await source.apply([cmd(1, put('k', 'v'))]);
  const image = await source.snapshot();
  const sm = await open(t);
  await t.rejects(sm.restore({ meta: { index: 9, term: 1, confState: { voters: [], learners: [] } }, data: image.data }), INVARIANT);
  await t.rejects(sm.restore({ meta: { index: 1, term: 1, confState: { voters: [], learners: [] } }, data: new Uint8Array([7]) }), INVARIANT);
  t.equal(sm.appliedIndex(), 0);
});

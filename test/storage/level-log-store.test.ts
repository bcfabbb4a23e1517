import { ClassicLevel } from 'classic-level';
import t from 'tap';
import type { LogStore } from '../../src/raft/log-store.js';
import { LevelLogStore } from '../../src/storage/index.js';
import { INVARIANT, batch, hs, logStoreContract, run, snap, viewOf } from './log-store-contract.js';

t.test('LogStore contract', (t) => {
  logStoreContract(t, {
    open: (dir) => LevelLogStore.open(dir),
    reopen: async (store: LogStore, dir) => {
      await store.close();
      return LevelLogStore.open(dir);
    },
  });
  t.end();
});

t.test('indices beyond 32 bits survive a restart', async (t) => {
  const dir = t.testdir();
  const store = await LevelLogStore.open(dir);
  // 15 -> 16 and 255 -> 256 change the hex width; a large index checks the padding.
  await store.save(batch({ hardState: hs(1, 300), entries: run(1, 300, 1, 1) }));
  await store.saveSnapshot(snap(300, 1), 300);
  const far = 2 ** 40;
  await store.save(batch({ hardState: hs(2, far), snapshot: snap(far, 2), entries: run(far + 1, far + 2, 2) }));
  await store.close();
  const again = await LevelLogStore.open(dir);
  t.teardown(() => again.close());
  t.equal(again.firstIndex(), far + 1);
  t.equal(again.lastIndex(), far + 2);
  t.strictSame(again.entries(far + 1, far + 3, Infinity), run(far + 1, far + 2, 2));
});

t.test('reopen of a log that spans hex widths', async (t) => {
  const dir = t.testdir();
  const store = await LevelLogStore.open(dir);
  await store.save(batch({ hardState: hs(1, 0), entries: run(1, 270, 1, 3) }));
  const view = viewOf(store);
  await store.close();
  const again = await LevelLogStore.open(dir);
  t.teardown(() => again.close());
  t.strictSame(viewOf(again), view);
});

t.test('opening a folder whose log has a hole fails loudly', async (t) => {
  const dir = t.testdir();
  const store = await LevelLogStore.open(dir);
  await store.save(batch({ entries: run(1, 4, 1) }));
  await store.close();
  const db = new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
  await db.del(`e/${(3).toString(16).padStart(16, '0')}`);
  await db.close();
  await t.rejects(LevelLogStore.open(dir), INVARIANT);
  // The failed open released the folder's lock.
  const db2 = new ClassicLevel(dir);
  await db2.open();
  await db2.close();
});

t.test('opening a folder with a malformed value fails loudly', async (t) => {
  const dir = t.testdir();
  const db = new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
  await db.put('m/hard-state', new Uint8Array([0x93, 0x01, 0xa1, 0x78, 0x00]));
  await db.close();
  await t.rejects(LevelLogStore.open(dir), INVARIANT);
});

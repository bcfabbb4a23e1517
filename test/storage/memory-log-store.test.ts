import t from 'tap';
import type { LogStore } from '../../src/raft/log-store.js';
import { MemoryLogStore } from '../../src/storage/index.js';
import { batch, hs, logStoreContract, run, snap, viewOf } from './log-store-contract.js';

t.test('LogStore contract', (t) => {
  logStoreContract(t, {
    open: () => Promise.resolve(new MemoryLogStore()),
    reopen: (store: LogStore) => Promise.resolve(MemoryLogStore.fromImage((store as MemoryLogStore).durableImage())),
  });
  t.end();
});

/** Records when a promise settles, so a test can assert it has not. */
function track(promise: Promise<void>): { done: boolean } {
  const state = { done: false };
  void promise.then(() => {
    state.done = true;
  });
  return state;
}

/** Lets every queued promise callback run; no timer is involved in the store. */
function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

t.test('immediate mode: a save is durable when it resolves', async (t) => {
  const store = new MemoryLogStore();
  t.equal(store.syncMode, 'immediate');
  await store.save(batch({ hardState: hs(1, 1), entries: run(1, 3, 1) }));
  t.equal(store.pendingCount(), 0);
  t.strictSame(viewOf(MemoryLogStore.fromImage(store.durableImage())), viewOf(store));
});

t.test('manual mode: saves are pending until synced, in order', async (t) => {
  const store = new MemoryLogStore({ syncMode: 'manual' });
  const first = track(store.save(batch({ hardState: hs(1, 0), entries: run(1, 2, 1) })));
  const second = track(store.save(batch({ entries: run(3, 3, 1) })));
  t.equal(store.lastIndex(), 3, 'the view shows pending saves');
  t.equal(store.durableImage().entries.length, 0, 'the disk does not');
  t.equal(store.pendingCount(), 2);
  t.equal(store.syncPending(1), 1);
  await drainMicrotasks();
  t.ok(first.done);
  t.notOk(second.done, 'only the synced save resolves');
  t.strictSame(store.durableImage().entries, run(1, 2, 1));
  t.equal(store.syncPending(), 1);
  await drainMicrotasks();
  t.ok(second.done);
  t.strictSame(store.durableImage().entries, run(1, 3, 1));
});

t.test('manual mode: dropUnsynced loses exactly the unsynced saves', async (t) => {
  const store = new MemoryLogStore({ syncMode: 'manual' });
  const synced = [
    store.save(batch({ hardState: hs(1, 0), entries: run(1, 4, 1) })),
    store.save(batch({ hardState: hs(1, 2) })),
  ];
  store.syncPending();
  await Promise.all(synced);
  const durableBefore = store.durableImage();
  const viewBefore = viewOf(store);
  const lost = [
    track(store.save(batch({ hardState: hs(2, 3), entries: run(3, 6, 2) }))),
    track(store.saveSnapshot(snap(2, 1), 2)),
  ];
  t.equal(store.lastIndex(), 6);
  t.equal(store.dropUnsynced(), 2);
  await drainMicrotasks();
  t.ok(lost.every((s) => !s.done), 'lost saves never resolve');
  t.strictSame(store.durableImage(), durableBefore);
  t.strictSame(viewOf(store), viewBefore, 'the view falls back to the durable image');
  const restarted = MemoryLogStore.fromImage(store.durableImage(), { syncMode: 'manual' });
  t.strictSame(viewOf(restarted), viewBefore);
  t.equal(restarted.syncPending(), 0);
  const after = store.save(batch({ entries: run(5, 5, 1) }));
  store.syncPending();
  await after;
  t.equal(store.durableImage().entries.length, 5, 'the same store keeps working after a crash');
});

t.test('manual mode: a sync after compaction replays it onto the durable image', async (t) => {
  const store = new MemoryLogStore({ syncMode: 'manual' });
  const saves = [
    store.save(batch({ hardState: hs(1, 5), entries: run(1, 8, 1) })),
    store.saveSnapshot(snap(5, 1), 4),
    store.save(batch({ entries: run(7, 9, 2) })),
  ];
  t.equal(store.syncPending(), 3);
  await Promise.all(saves);
  t.strictSame(viewOf(MemoryLogStore.fromImage(store.durableImage())), viewOf(store));
  t.equal(store.durableImage().base.index, 4);
});

t.test('fromImage refuses an image whose log is not contiguous', async (t) => {
  const image = { ...new MemoryLogStore().durableImage(), entries: [...run(1, 2, 1), ...run(4, 4, 1)] };
  t.throws(() => MemoryLogStore.fromImage(image), { code: 'RAFT_INVARIANT' });
});

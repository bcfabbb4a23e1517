// The behaviour every LogStore must show, run against each implementation by
// its own test file. "reopen" is a restart: for LevelDB a close and open of the
// same folder, for the memory store a new store from the durable image.
import type { Test } from 'tap';
import type { Entry, HardState, Snapshot } from '../../src/raft/core/types.js';
import type { LogStore, PersistBatch } from '../../src/raft/log-store.js';

// Errors are matched by their stable code, as callers are meant to branch on it.
export const COMPACTED = { code: 'RAFT_COMPACTED' };
export const UNAVAILABLE = { code: 'RAFT_UNAVAILABLE' };
export const INVARIANT = { code: 'RAFT_INVARIANT' };
const CLOSED = { code: 'LOG_STORE_CLOSED' };

export interface LogStoreHarness {
  open(dir: string): Promise<LogStore>;
  reopen(store: LogStore, dir: string): Promise<LogStore>;
}

export function entry(index: number, term: number, data: Uint8Array | number = 0): Entry {
  const bytes = typeof data === 'number' ? payload(index, term, data) : data;
  return { index, term, type: 'normal', data: bytes };
}

/** Bytes that identify (index, term), so a stale entry cannot pass for a new one. */
export function payload(index: number, term: number, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let k = 0; k < size; k++) bytes[k] = (index * 31 + term * 7 + k) & 0xff;
  return bytes;
}

export function run(from: number, to: number, term: number, size = 8): Entry[] {
  const out: Entry[] = [];
  for (let index = from; index <= to; index++) out.push(entry(index, term, size));
  return out;
}

export function batch(fields: Partial<PersistBatch>): PersistBatch {
  return { hardState: undefined, entries: [], snapshot: undefined, ...fields };
}

export function hs(term: number, commit: number, vote = 1): HardState {
  return { term, vote, commit };
}

export function snap(index: number, term: number, data = payload(index, term, 16), voters = [1, 2, 3]): Snapshot {
  return { meta: { index, term, confState: { voters, learners: [4] } }, data };
}

/** Everything the core can read, with errors as their codes: two stores agree iff their views are equal. */
export function viewOf(store: LogStore): unknown {
  const first = store.firstIndex();
  const last = store.lastIndex();
  return {
    initialState: store.initialState(),
    firstIndex: first,
    lastIndex: last,
    snapshot: store.snapshot(),
    baseTerm: store.term(first - 1),
    entries: store.entries(first, last + 1, Number.POSITIVE_INFINITY),
    belowFirst: codeOf(() => store.term(first - 2)),
    beyondLast: codeOf(() => store.term(last + 1)),
  };
}

export function codeOf(read: () => unknown): string | undefined {
  try {
    read();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

function isPlainBytes(data: Uint8Array): boolean {
  return Object.getPrototypeOf(data) === Uint8Array.prototype;
}

export function logStoreContract(t: Test, harness: LogStoreHarness): void {
  const open = async (t: Test): Promise<{ store: LogStore; dir: string }> => {
    const dir = t.testdir();
    const store = await harness.open(dir);
    t.teardown(() => store.close());
    return { store, dir };
  };
  const reopen = async (t: Test, store: LogStore, dir: string): Promise<LogStore> => {
    const again = await harness.reopen(store, dir);
    t.teardown(() => again.close());
    return again;
  };

  t.test('an empty store', async (t) => {
    const { store } = await open(t);
    t.strictSame(store.initialState(), { hardState: { term: 0, vote: 0, commit: 0 }, confState: { voters: [], learners: [] } });
    t.equal(store.firstIndex(), 1);
    t.equal(store.lastIndex(), 0);
    t.equal(store.term(0), 0);
    t.equal(store.snapshot().meta.index, 0);
    t.equal(store.snapshot().data.byteLength, 0);
    t.strictSame(store.entries(1, 1, 100), []);
    t.throws(() => store.entries(0, 1, 100), COMPACTED);
    t.throws(() => store.entries(1, 2, 100), UNAVAILABLE);
    t.throws(() => store.term(1), UNAVAILABLE);
  });

  t.test('appends and reads back entries and hard state', async (t) => {
    const { store, dir } = await open(t);
    const entries = run(1, 5, 1);
    await store.save(batch({ hardState: hs(1, 2), entries }));
    t.strictSame(store.initialState().hardState, hs(1, 2));
    t.equal(store.lastIndex(), 5);
    t.strictSame(store.entries(1, 6, Infinity), entries);
    t.strictSame(store.entries(2, 4, Infinity), entries.slice(1, 3));
    t.equal(store.term(5), 1);
    t.throws(() => store.entries(1, 7, Infinity), UNAVAILABLE);
    const again = await reopen(t, store, dir);
    t.strictSame(viewOf(again), viewOf(store));
  });

  t.test('the view shows a save before it resolves', async (t) => {
    const { store } = await open(t);
    const saved = store.save(batch({ entries: run(1, 3, 1) }));
    t.equal(store.lastIndex(), 3);
    await saved;
  });

  t.test('an append truncates the conflicting suffix', async (t) => {
    const { store, dir } = await open(t);
    await store.save(batch({ hardState: hs(1, 2), entries: run(1, 5, 1) }));
    await store.save(batch({ hardState: hs(2, 2), entries: run(3, 4, 2) }));
    t.equal(store.lastIndex(), 4);
    t.strictSame(store.entries(1, 5, Infinity), [...run(1, 2, 1), ...run(3, 4, 2)]);
    t.throws(() => store.term(5), UNAVAILABLE);
    const again = await reopen(t, store, dir);
    t.equal(again.lastIndex(), 4, 'no stale entry 5 comes back after a restart');
    t.strictSame(viewOf(again), viewOf(store));
    await again.save(batch({ entries: run(5, 6, 2) }));
    t.strictSame(again.entries(3, 7, Infinity), run(3, 6, 2));
  });

  t.test('an append may extend or replace from the very end', async (t) => {
    const { store } = await open(t);
    await store.save(batch({ entries: run(1, 3, 1) }));
    await store.save(batch({ entries: run(4, 4, 1) }));
    await store.save(batch({ entries: run(4, 6, 3) }));
    t.strictSame(store.entries(1, 7, Infinity), [...run(1, 3, 1), ...run(4, 6, 3)]);
  });

  t.test('entries are cut to maxBytes but never below one', async (t) => {
    const { store } = await open(t);
    await store.save(batch({ entries: run(1, 5, 1, 100) }));
    t.equal(store.entries(1, 6, 250).length, 2);
    t.equal(store.entries(1, 6, 300).length, 3, 'exactly maxBytes still fits');
    t.equal(store.entries(1, 6, 0).length, 1);
    t.equal(store.entries(3, 6, 99).length, 1);
    t.equal(store.entries(1, 6, Infinity).length, 5);
    t.equal(store.entries(2, 6, 150)[0]?.index, 2);
  });

  t.test('a local snapshot compacts the log', async (t) => {
    const { store, dir } = await open(t);
    await store.save(batch({ hardState: hs(2, 8), entries: [...run(1, 4, 1), ...run(5, 10, 2)] }));
    const snapshot = snap(6, 2);
    await store.saveSnapshot(snapshot, 6);
    t.equal(store.firstIndex(), 7);
    t.equal(store.lastIndex(), 10);
    t.equal(store.term(6), 2, 'the snapshot index keeps its term');
    t.throws(() => store.term(5), COMPACTED);
    t.throws(() => store.entries(6, 8, Infinity), COMPACTED);
    t.strictSame(store.entries(7, 11, Infinity), run(7, 10, 2));
    t.strictSame(store.snapshot(), snapshot);
    t.strictSame(store.initialState().confState, snapshot.meta.confState);
    const again = await reopen(t, store, dir);
    t.strictSame(viewOf(again), viewOf(store));
  });

  t.test('a local snapshot may keep a tail of entries before its index', async (t) => {
    const { store, dir } = await open(t);
    await store.save(batch({ hardState: hs(2, 8), entries: [...run(1, 4, 1), ...run(5, 10, 2)] }));
    await store.saveSnapshot(snap(8, 2), 3);
    t.equal(store.firstIndex(), 4);
    t.equal(store.term(3), 1);
    t.equal(store.term(8), 2);
    t.throws(() => store.term(2), COMPACTED);
    t.equal(store.snapshot().meta.index, 8);
    await store.saveSnapshot(snap(8, 2), 2);
    t.equal(store.firstIndex(), 4, 'compacting below the current start is a no-op');
    const again = await reopen(t, store, dir);
    t.strictSame(viewOf(again), viewOf(store));
  });

  t.test('a local snapshot is refused when it does not fit the log', async (t) => {
    const { store } = await open(t);
    await store.save(batch({ hardState: hs(2, 6), entries: [...run(1, 4, 1), ...run(5, 8, 2)] }));
    const before = viewOf(store);
    await t.rejects(store.saveSnapshot(snap(7, 2), 7), INVARIANT, 'beyond commit');
    await t.rejects(store.saveSnapshot(snap(5, 1), 5), INVARIANT, 'wrong term');
    await t.rejects(store.saveSnapshot(snap(5, 2), 6), INVARIANT, 'compacting past the snapshot');
    t.strictSame(viewOf(store), before, 'refusals change nothing');
    await store.saveSnapshot(snap(5, 2), 5);
    await t.rejects(store.saveSnapshot(snap(4, 1), 4), INVARIANT, 'older than the stored one');
    t.equal(store.snapshot().meta.index, 5);
    t.equal(store.firstIndex(), 6);
  });

  t.test('a received snapshot that conflicts replaces the whole log', async (t) => {
    const { store, dir } = await open(t);
    await store.save(batch({ hardState: hs(1, 2), entries: run(1, 5, 1) }));
    const snapshot = snap(4, 3);
    await store.save(batch({ hardState: hs(3, 4), snapshot }));
    t.equal(store.firstIndex(), 5);
    t.equal(store.lastIndex(), 4);
    t.equal(store.term(4), 3);
    t.strictSame(store.initialState(), { hardState: hs(3, 4), confState: snapshot.meta.confState });
    await store.save(batch({ entries: run(5, 6, 3) }));
    t.strictSame(store.entries(5, 7, Infinity), run(5, 6, 3));
    const again = await reopen(t, store, dir);
    t.strictSame(viewOf(again), viewOf(store));
  });

  t.test('a received snapshot beyond the log, with entries in the same batch', async (t) => {
    const { store, dir } = await open(t);
    await store.save(batch({ hardState: hs(1, 1), entries: run(1, 3, 1) }));
    await store.save(batch({ hardState: hs(2, 20), snapshot: snap(20, 2), entries: run(21, 22, 2) }));
    t.equal(store.firstIndex(), 21);
    t.equal(store.lastIndex(), 22);
    t.throws(() => store.term(19), COMPACTED);
    const again = await reopen(t, store, dir);
    t.strictSame(viewOf(again), viewOf(store));
  });

  t.test('a received snapshot that matches the log keeps the entries after it', async (t) => {
    const { store } = await open(t);
    await store.save(batch({ hardState: hs(1, 2), entries: run(1, 8, 1) }));
    await store.save(batch({ hardState: hs(1, 5), snapshot: snap(5, 1) }));
    t.equal(store.firstIndex(), 6);
    t.strictSame(store.entries(6, 9, Infinity), run(6, 8, 1));
  });

  t.test('invalid saves are refused and change nothing', async (t) => {
    const { store, dir } = await open(t);
    await store.save(batch({ hardState: hs(2, 3, 1), entries: [...run(1, 2, 1), ...run(3, 6, 2)] }));
    await store.saveSnapshot(snap(2, 1), 2);
    const before = viewOf(store);
    const refused: [string, PersistBatch][] = [
      ['a gap after the last index', batch({ entries: run(8, 9, 2) })],
      ['entries not contiguous', batch({ entries: [entry(7, 2), entry(9, 2)] })],
      ['entries at or below the snapshot', batch({ entries: run(2, 3, 5) })],
      ['terms going down within a batch', batch({ entries: [entry(7, 3), entry(8, 2)] })],
      ['a term below the preceding entry', batch({ entries: run(7, 7, 1) })],
      ['truncating committed entries', batch({ entries: run(3, 4, 3) })],
      ['the term going back', batch({ hardState: hs(1, 3) })],
      ['commit going back', batch({ hardState: hs(2, 2) })],
      ['a second vote in one term', batch({ hardState: hs(2, 3, 2) })],
      ['commit beyond the last index', batch({ hardState: hs(2, 7) })],
      ['a received snapshot not newer than ours', batch({ snapshot: snap(2, 1) })],
      ['a received snapshot conflicting with a committed entry', batch({ snapshot: snap(3, 1) })],
    ];
    for (const [why, bad] of refused) {
      await t.rejects(store.save(bad), INVARIANT, why);
      t.strictSame(viewOf(store), before, `unchanged after ${why}`);
    }
    await store.save(batch({ hardState: hs(3, 3, 2), entries: run(4, 4, 3) }));
    t.equal(store.lastIndex(), 4, 'a valid save still works after refusals');
    const again = await reopen(t, store, dir);
    t.strictSame(viewOf(again), viewOf(store));
  });

  t.test('concurrent saves land in call order', async (t) => {
    const { store, dir } = await open(t);
    const resolved: number[] = [];
    const saves: Promise<void>[] = [];
    for (let k = 1; k <= 40; k++) {
      // Every fifth save rewrites the previous entry with a higher term: order matters.
      const entries = k % 5 === 0 ? [entry(k - 1, k), entry(k, k)] : [entry(k, k)];
      saves.push(store.save(batch({ hardState: hs(k, Math.max(0, k - 2)), entries })).then(() => void resolved.push(k)));
    }
    t.equal(store.lastIndex(), 40, 'the view already holds every save');
    await Promise.all(saves);
    t.strictSame(resolved, Array.from({ length: 40 }, (_, k) => k + 1));
    const expected = Array.from({ length: 40 }, (_, k) => {
      const index = k + 1;
      return entry(index, index % 5 === 4 ? index + 1 : index);
    });
    t.strictSame(store.entries(1, 41, Infinity), expected);
    const again = await reopen(t, store, dir);
    t.strictSame(viewOf(again), viewOf(store));
    t.strictSame(again.initialState().hardState, hs(40, 38));
  });

  t.test('a restart restores exactly, bytes as plain Uint8Array', async (t) => {
    const { store, dir } = await open(t);
    await store.save(batch({ hardState: hs(4, 9, 3), entries: [...run(1, 5, 1), ...run(6, 12, 4)] }));
    await store.save(batch({ entries: [{ index: 13, term: 4, type: 'confChange', data: new Uint8Array([1, 2]) }, entry(14, 4, new Uint8Array(0))] }));
    await store.saveSnapshot(snap(9, 4, new Uint8Array([0, 255, 7])), 7);
    const again = await reopen(t, store, dir);
    t.strictSame(viewOf(again), viewOf(store));
    t.strictSame(again.initialState().hardState, hs(4, 9, 3));
    t.equal(again.entries(13, 14, Infinity)[0]?.type, 'confChange');
    const datas = [again.snapshot().data, ...again.entries(again.firstIndex(), again.lastIndex() + 1, Infinity).map((e) => e.data)];
    t.ok(datas.every(isPlainBytes), 'every data field is a Uint8Array, not a Buffer');
    t.strictSame([...again.snapshot().data], [0, 255, 7]);
    t.equal(again.entries(14, 15, Infinity)[0]?.data.byteLength, 0);
  });

  t.test('a closed store refuses saves', async (t) => {
    const store = await harness.open(t.testdir());
    await store.close();
    await t.rejects(store.save(batch({ entries: run(1, 1, 1) })), CLOSED);
    await t.rejects(store.saveSnapshot(snap(0, 0), 0), CLOSED);
  });
}

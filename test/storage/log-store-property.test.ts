// Random sequences of writes: MemoryLogStore and LevelLogStore must show the
// same view after every step, also across restarts; and a manual-sync
// MemoryLogStore must hold on disk exactly the saves it synced.
// A failure prints fast-check's seed and path; replay with FC_SEED=<seed> FC_PATH=<path>.
import { deepStrictEqual, equal } from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import type { Snapshot } from '../../src/raft/core/types.js';
import type { LogStore, PersistBatch } from '../../src/raft/log-store.js';
import { LevelLogStore, MemoryLogStore } from '../../src/storage/index.js';
import { batch, payload, run, viewOf } from './log-store-contract.js';

type Op =
  | { kind: 'append'; back: number; count: number; termBump: number; commitAdvance: number; size: number }
  | { kind: 'vote'; termBump: number; vote: number }
  | { kind: 'receive'; ahead: number; match: boolean; extra: number; termBump: number }
  | { kind: 'compact'; back: number; keep: number }
  | { kind: 'junk'; first: number; count: number; term: number; hsTerm: number; vote: number; commit: number }
  | { kind: 'junkSnapshot'; index: number; term: number; compact: number }
  | { kind: 'reopen' };

type Call = { save: PersistBatch } | { saveSnapshot: [Snapshot, number] } | 'reopen';

const small = (max: number): fc.Arbitrary<number> => fc.integer({ min: 0, max });

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('append' as const), back: small(6), count: fc.integer({ min: 1, max: 6 }), termBump: small(1), commitAdvance: small(6), size: small(40) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('vote' as const), termBump: small(2), vote: small(3) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('receive' as const), ahead: small(8), match: fc.boolean(), extra: small(3), termBump: small(1) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('compact' as const), back: small(4), keep: small(4) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('junk' as const), first: small(30), count: small(3), term: small(6), hsTerm: small(6), vote: small(3), commit: small(30) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('junkSnapshot' as const), index: small(30), term: small(6), compact: small(30) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
);

/** Turns an abstract op into a concrete call that fits the current log (junk ops need not fit). */
function toCall(op: Op, view: LogStore): Call {
  const h = view.initialState().hardState;
  const last = view.lastIndex();
  const floor = Math.max(h.commit, view.snapshot().meta.index) + 1;
  switch (op.kind) {
    case 'append': {
      const first = Math.max(floor, last + 1 - op.back);
      const term = Math.max(h.term, view.term(first - 1)) + op.termBump;
      const newLast = first + op.count - 1;
      const hardState = { term, vote: term === h.term ? h.vote : 0, commit: Math.min(newLast, h.commit + op.commitAdvance) };
      return { save: batch({ hardState, entries: run(first, newLast, term, op.size) }) };
    }
    case 'vote': {
      const term = h.term + op.termBump;
      const vote = term === h.term && h.vote !== 0 ? h.vote : op.vote;
      return { save: batch({ hardState: { term, vote, commit: h.commit } }) };
    }
    case 'receive':
      return { save: receivedSnapshot(op, view, floor + op.ahead) };
    case 'compact': {
      const index = Math.max(view.snapshot().meta.index, h.commit - op.back);
      const meta = { index, term: view.term(index), confState: view.snapshot().meta.confState };
      return { saveSnapshot: [{ meta, data: payload(index, meta.term, 5) }, Math.max(0, index - op.keep)] };
    }
    case 'junk': {
      const hardState = { term: op.hsTerm, vote: op.vote, commit: op.commit };
      return { save: batch({ hardState, entries: run(op.first, op.first + op.count - 1, op.term) }) };
    }
    case 'junkSnapshot': {
      const meta = { index: op.index, term: op.term, confState: { voters: [1], learners: [] } };
      return { saveSnapshot: [{ meta, data: payload(op.index, op.term, 3) }, op.compact] };
    }
    case 'reopen':
      return 'reopen';
  }
}

function receivedSnapshot(op: Extract<Op, { kind: 'receive' }>, view: LogStore, index: number): PersistBatch {
  const h = view.initialState().hardState;
  const last = view.lastIndex();
  const matches = op.match && index <= last;
  // A mismatching term is above every term in the log, as a newer leader's would be.
  const snapTerm = matches ? view.term(index) : Math.max(h.term, view.term(last)) + 1 + op.termBump;
  const term = Math.max(h.term, snapTerm);
  const snapshot = { meta: { index, term: snapTerm, confState: { voters: [1, 2, 3].slice(0, 1 + (index % 3)), learners: [] } }, data: payload(index, snapTerm, 7) };
  const hardState = { term, vote: term === h.term ? h.vote : 0, commit: index };
  return batch({ hardState, snapshot, entries: op.extra > 0 ? run(index + 1, index + op.extra, term, 4) : [] });
}

function apply(store: LogStore, call: Exclude<Call, 'reopen'>): Promise<void> {
  return 'save' in call ? store.save(call.save) : store.saveSnapshot(...call.saveSnapshot);
}

/** 'ok' or the error's code: refusals must agree too. */
function outcome(promise: Promise<void>): Promise<string> {
  return promise.then(
    () => 'ok',
    (err: unknown) => (err as { code?: string }).code ?? String(err),
  );
}

const replay = {
  seed: process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED),
  path: process.env.FC_PATH,
};
const params = (numRuns: number): fc.Parameters<unknown> =>
  replay.seed === undefined ? { numRuns } : { numRuns, seed: replay.seed, ...(replay.path === undefined ? {} : { path: replay.path }) };

const root = mkdtempSync(join(tmpdir(), 'log-store-property-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));

t.test('MemoryLogStore and LevelLogStore show identical views', async (t) => {
  let runs = 0;
  const property = fc.asyncProperty(fc.array(opArb, { maxLength: 30, size: 'max' }), fc.boolean(), async (ops, pipelined) => {
    runs++;
    const dir = mkdtempSync(join(root, 'run-'));
    let mem = new MemoryLogStore();
    let level = await LevelLogStore.open(dir);
    try {
      let inFlight: Promise<void>[] = [];
      for (const op of ops) {
        const call = toCall(op, mem);
        if (call === 'reopen') {
          await Promise.all(inFlight);
          inFlight = [];
          await level.close();
          level = await LevelLogStore.open(dir);
          mem = MemoryLogStore.fromImage(mem.durableImage());
        } else {
          const memOutcome = await outcome(apply(mem, call));
          const levelOutcome = outcome(apply(level, call));
          // Pipelined: the next call is planned before this batch is on disk, as a driver may.
          if (pipelined) inFlight.push(levelOutcome.then((o) => equal(o, memOutcome)));
          else equal(await levelOutcome, memOutcome);
        }
        deepStrictEqual(viewOf(level), viewOf(mem));
      }
      await Promise.all(inFlight);
      await level.close();
      level = await LevelLogStore.open(dir);
      deepStrictEqual(viewOf(level), viewOf(mem), 'after a final restart');
    } finally {
      await level.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
  await fc.assert(property, params(60));
  t.ok(runs >= 60, `${runs} random sequences agreed`);
});

type ManualOp = Op | { kind: 'sync'; count: number } | { kind: 'crash' };

const manualOpArb: fc.Arbitrary<ManualOp> = fc.oneof(
  { weight: 5, arbitrary: opArb.filter((op) => op.kind !== 'reopen') },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('sync' as const), count: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'crash' as const }) },
);

t.test('a manual-sync MemoryLogStore holds exactly the synced saves', async (t) => {
  let runs = 0;
  const property = fc.asyncProperty(fc.array(manualOpArb, { maxLength: 40, size: 'max' }), async (ops) => {
    runs++;
    // The reference syncs immediately; images[k] is its disk after k accepted saves.
    let reference = new MemoryLogStore();
    let images = [reference.durableImage()];
    const manual = new MemoryLogStore({ syncMode: 'manual' });
    let synced = 0;
    for (const op of ops) {
      if (op.kind === 'sync') {
        synced += manual.syncPending(op.count);
        deepStrictEqual(manual.durableImage(), images[synced]);
      } else if (op.kind === 'crash') {
        equal(manual.dropUnsynced(), images.length - 1 - synced);
        images = images.slice(0, synced + 1);
        reference = MemoryLogStore.fromImage(images[synced] ?? reference.durableImage());
      } else {
        const call = toCall(op, reference);
        if (call === 'reopen') continue;
        const accepted = (await outcome(apply(reference, call))) === 'ok';
        // Accepted calls stay pending until synced, so they cannot be awaited here.
        apply(manual, call).catch(() => undefined);
        if (accepted) images.push(reference.durableImage());
      }
      deepStrictEqual(viewOf(manual), viewOf(reference));
      equal(manual.pendingCount(), images.length - 1 - synced);
    }
  });
  await fc.assert(property, params(300));
  t.ok(runs >= 300, `${runs} random sequences agreed`);
});

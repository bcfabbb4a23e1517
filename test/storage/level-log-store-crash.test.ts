// A LevelLogStore killed with SIGKILL mid-write must come back with every
// batch whose save() resolved, each batch all-or-nothing, and a contiguous log.
// The child (fixtures/crash-child.mjs) runs the compiled code in dist/.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { Test } from 'tap';
import { LevelLogStore } from '../../src/storage/index.js';

const CHILD = fileURLToPath(new URL('./fixtures/crash-child.mjs', import.meta.url));
const BUILT = fileURLToPath(new URL('../../dist/src/storage/index.js', import.meta.url));

// Mirrors the child's choices.
const batchLength = (first: number): number => 1 + (first % 7);
function payload(index: number, size: number): number[] {
  return Array.from({ length: size }, (_, k) => (index * 31 + k) & 0xff);
}

/** Runs the child until it has reported `reports` resolved saves, then kills it. Returns the reported indices. */
async function runAndKill(t: Test, dir: string, reports: number): Promise<number[]> {
  const child = spawn(process.execPath, [CHILD, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = once(child, 'exit');
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const resolved: number[] = [];
  for await (const line of createInterface({ input: child.stdout })) {
    resolved.push(Number(line));
    if (resolved.length === reports) child.kill('SIGKILL');
  }
  const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
  t.equal(signal, 'SIGKILL', `the child died by the kill${stderr === '' ? '' : ` (exit code ${code}, stderr: ${stderr})`}`);
  return resolved;
}

interface Round {
  readonly term: number;
  readonly start: number;
  readonly resolved: readonly number[];
}

async function checkAfterCrash(t: Test, dir: string, round: Round): Promise<number> {
  const store = await LevelLogStore.open(dir);
  try {
    const first = store.firstIndex();
    const last = store.lastIndex();
    const maxResolved = Math.max(...round.resolved);
    t.ok(maxResolved <= last, `every resolved save is present (last resolved ${maxResolved}, last on disk ${last})`);
    t.ok(batchEnds(round.start, last).includes(last), `the log ends at a batch boundary (${last})`);
    const hardState = store.initialState().hardState;
    const lastBatchLength = last - lastBatchStart(round.start, last) + 1;
    if (last >= round.start) {
      t.strictSame(hardState, { term: round.term, vote: 1, commit: last - lastBatchLength }, 'hard state from the same batch as the last entries');
    }
    checkEntries(t, store, first, last, round);
    const snapshot = store.snapshot();
    t.ok(snapshot.meta.index >= first - 1 && snapshot.meta.index <= last, 'the snapshot lies within the log');
    if (snapshot.meta.index > 0) t.strictSame([...snapshot.data], payload(snapshot.meta.index, 32));
    return last;
  } finally {
    await store.close();
  }
}

function checkEntries(t: Test, store: LevelLogStore, first: number, last: number, round: Round): void {
  const entries = store.entries(first, last + 1, Number.POSITIVE_INFINITY);
  t.equal(entries.length, last - first + 1, 'the log is contiguous');
  const bad = entries.filter((e, k) => {
    const termOk = e.index >= round.start ? e.term === round.term : e.term < round.term;
    const dataOk = e.data.byteLength === 64 + (e.index % 50) && e.data.every((b, j) => b === ((e.index * 31 + j) & 0xff));
    return e.index !== first + k || !termOk || !dataOk;
  });
  t.strictSame(bad.map((e) => e.index), [], 'every entry has its index, term and bytes');
}

function batchEnds(start: number, upTo: number): number[] {
  const ends = [start - 1];
  for (let first = start; first <= upTo; first += batchLength(first)) ends.push(first + batchLength(first) - 1);
  return ends;
}

function lastBatchStart(start: number, last: number): number {
  let first = start;
  while (first + batchLength(first) - 1 < last) first += batchLength(first);
  return first;
}

t.test('SIGKILL during synced saves loses no resolved save', async (t) => {
  if (!existsSync(BUILT)) {
    t.fail(`${BUILT} is missing: run \`npx tsc -p .\` (npm test builds first)`);
    return;
  }
  const dir = t.testdir();
  let start = 1;
  // Several rounds: each restart continues the log the previous crash left.
  for (const [round, reports] of [60, 150, 95].entries()) {
    const resolved = await runAndKill(t, dir, reports);
    t.ok(resolved.length >= reports, `round ${round + 1}: ${resolved.length} saves resolved before the kill`);
    const last = await checkAfterCrash(t, dir, { term: round + 1, start, resolved });
    start = last + 1;
  }
});

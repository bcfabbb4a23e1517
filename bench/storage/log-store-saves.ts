// Synced LevelLogStore saves per second, one save awaited at a time (as the
// driver does: one synced batch per Ready), for batches of 1 and 10 entries.
// Not a test. Run: npx tsc -p . && node dist/bench/storage/log-store-saves.js [seconds]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Entry } from '../../src/raft/core/types.js';
import { LevelLogStore } from '../../src/storage/index.js';

const ENTRY_BYTES = 200;
const WARMUP_SAVES = 20;
const secondsPerCase = Number(process.argv[2] ?? 3);

interface Result {
  readonly entriesPerBatch: number;
  readonly saves: number;
  readonly savesPerSec: number;
  readonly entriesPerSec: number;
  readonly meanMs: number;
}

async function measure(entriesPerBatch: number): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-log-store-'));
  const store = await LevelLogStore.open(dir);
  const data = new Uint8Array(ENTRY_BYTES).fill(7);
  const saveNext = (): Promise<void> => {
    const first = store.lastIndex() + 1;
    const entries: Entry[] = Array.from({ length: entriesPerBatch }, (_, k) => ({ index: first + k, term: 1, type: 'normal', data }));
    return store.save({ hardState: { term: 1, vote: 1, commit: first - 1 }, entries, snapshot: undefined });
  };
  try {
    for (let k = 0; k < WARMUP_SAVES; k++) await saveNext();
    let saves = 0;
    const start = performance.now();
    const deadline = start + secondsPerCase * 1000;
    while (performance.now() < deadline) {
      await saveNext();
      saves++;
    }
    const elapsedMs = performance.now() - start;
    const savesPerSec = (saves * 1000) / elapsedMs;
    return { entriesPerBatch, saves, savesPerSec, entriesPerSec: savesPerSec * entriesPerBatch, meanMs: elapsedMs / saves };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const results: Result[] = [];
for (const entriesPerBatch of [1, 10]) results.push(await measure(entriesPerBatch));
console.log(`LevelLogStore synced saves, ${ENTRY_BYTES}-byte entries, ${secondsPerCase}s per case, dir ${tmpdir()}`);
for (const r of results) {
  console.log(
    `  ${String(r.entriesPerBatch).padStart(2)} entries/batch: ${r.savesPerSec.toFixed(0)} saves/s, ` +
      `${r.entriesPerSec.toFixed(0)} entries/s, ${r.meanMs.toFixed(2)} ms/save (${r.saves} saves)`,
  );
}
const [one, ten] = results;
if (one !== undefined && ten !== undefined) console.log(`  ratio saves/s 10 vs 1: ${(ten.savesPerSec / one.savesPerSec).toFixed(2)}`);

// Time to check a register history of many ops over many keys, with the
// concurrency of N client processes. Not a test: run the compiled file,
//   node dist/test/jepsen/checker/bench-linearizability.js [ops] [keys] [processes] [seed]
import { performance } from 'node:perf_hooks';
import { checkLinearizability, register } from '../../../jepsen/checker/index.js';
import { runRegister, type PlannedOp } from './random-register-history.js';

const [opCount = 10_000, keyCount = 100, processCount = 10, seed = 1] = process.argv.slice(2).map(Number);

function mulberry32(state: number): () => number {
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let x = Math.imul(state ^ (state >>> 15), 1 | state);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
}

const random = mulberry32(seed);
const int = (n: number): number => Math.floor(random() * n);
const processes: PlannedOp[][] = Array.from({ length: processCount }, () => []);
for (let i = 0; i < opCount; i++) {
  processes[i % processCount]!.push({
    kind: (['read', 'write', 'cas'] as const)[int(3)]!,
    key: int(keyCount),
    gap: int(2),
    duration: 1 + int(8),
    pointRoll: int(1000),
    outcomeRoll: int(17),
    casRoll: int(2),
  });
}
const history = runRegister(processes);
for (const label of ['warm-up', 'measured']) {
  const started = performance.now();
  const result = checkLinearizability(history, register());
  const elapsedMs = performance.now() - started;
  const states = result.keys.reduce((sum, k) => sum + k.states, 0);
  const slowest = Math.max(...result.keys.map((k) => k.elapsedMs));
  console.log(
    `${label}: ${opCount} ops (${history.length} events) over ${keyCount} keys, ${processCount} processes, seed ${seed}: ` +
      `${result.verdict} in ${elapsedMs.toFixed(0)} ms, ${states} states, slowest key ${slowest.toFixed(1)} ms`,
  );
}

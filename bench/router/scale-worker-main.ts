// A fresh process, as a restarted router would be, that loads a large
// cluster state one way and prints one JSON line: the wall and CPU time it
// took and the process's memory while holding the state.
// Run with --expose-gc (the orchestrator does):
//   node --expose-gc scale-worker-main.js restore <snapshot file> <index> <empty level dir>
//   node --expose-gc scale-worker-main.js reopen <level dir>
import { readFileSync } from 'node:fs';
import { decodeCommand, encodeCommand, LevelClusterStateMachine } from '../../src/cluster/index.js';

export interface ScaleWorkerResult {
  mode: 'restore' | 'reopen';
  wallMs: number;
  cpuMs: number;
  repositories: number;
  rssBytes: number;
  heapUsedBytes: number;
  externalBytes: number;
  peakRssBytes: number;
}

/** After two collections a moment apart: V8 frees array buffers' memory in the background after a collection. */
async function settledMemory(): Promise<NodeJS.MemoryUsage> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  await new Promise((resolve) => setTimeout(resolve, 200));
  gc?.();
  // msgpackr keeps the strings of the last buffer it decoded; any later decode (every command, in a router) drops them.
  decodeCommand(encodeCommand({ type: 'liveness-refresh', router: 'x', stampMs: 0 }));
  gc?.();
  return process.memoryUsage();
}

async function load(mode: string, args: string[]): Promise<{ machine: LevelClusterStateMachine; wallMs: number; cpuMs: number }> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  let machine: LevelClusterStateMachine;
  if (mode === 'restore') {
    const [file, index, dir] = args;
    machine = await LevelClusterStateMachine.open(dir!);
    await machine.restore({ meta: { index: Number(index), term: 1, confState: { voters: [1], learners: [] } }, data: readFileSync(file!) });
  } else if (mode === 'reopen') {
    machine = await LevelClusterStateMachine.open(args[0]!);
  } else {
    throw new Error(`unknown mode ${mode}; use restore or reopen`);
  }
  const used = process.cpuUsage(cpu);
  return { machine, wallMs: performance.now() - started, cpuMs: (used.user + used.system) / 1e3 };
}

const [mode = '', ...args] = process.argv.slice(2);
const { machine, wallMs, cpuMs } = await load(mode, args);
const memory = await settledMemory();
const result: ScaleWorkerResult = {
  mode: mode as ScaleWorkerResult['mode'],
  wallMs,
  cpuMs,
  repositories: machine.view.repositoryCount(),
  rssBytes: memory.rss,
  heapUsedBytes: memory.heapUsed,
  externalBytes: memory.external,
  peakRssBytes: process.resourceUsage().maxRSS * 1024,
};
await machine.close();
process.stdout.write(`${JSON.stringify(result)}\n`);

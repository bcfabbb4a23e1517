// Not a test (tap runs *.test.ts only): measures the cluster state at the
// router benchmark's scale. Compile it (ts-node alone adds ~250 MiB of RSS):
//   npx tsc --outDir /tmp/cluster-scale --rootDir . --module nodenext --target es2022 --skipLibCheck test/cluster/scale-1m.ts
//   node --expose-gc /tmp/cluster-scale/test/cluster/scale-1m.js [count] [--level]
// It builds `count` repositories (default 1,000,000) through real encoded
// create-repository commands, then reports RSS, snapshot size and the times
// to snapshot, restore, and (with --level) persist and reopen in LevelDB.
// Restoring and reopening each run in a fresh process, as in a restarted
// router, so the RSS reported is that of the state alone.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeCommand, encodeCommand, LevelClusterStateMachine, MemoryClusterStateMachine, type ClusterCommand, type ClusterStateMachine } from '../../src/cluster/index.js';
import type { AppliedCommand } from '../../src/raft/state-machine.js';

const count = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 1_000_000);
const withLevel = process.argv.includes('--level');
const option = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const mode = option('mode');
const file = option('file') ?? '';
const levelDir = option('dir') ?? '';
const STORAGES = ['gitaly-1', 'gitaly-2', 'gitaly-3'];
const BATCH = 1_000;

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

/** After two collections a moment apart: V8 frees array buffers' memory in the background after a collection. */
async function memory(): Promise<string> {
  gc();
  await new Promise((resolve) => setTimeout(resolve, 200));
  gc();
  const { rss, heapUsed, external } = process.memoryUsage();
  // external includes array buffers and strings msgpackr decoded natively.
  return `RSS ${mib(rss)} (heap ${mib(heapUsed)}, external ${mib(external)}; peak so far ${mib(process.resourceUsage().maxRSS * 1024)})`;
}

/** Wall and CPU time: on a shared machine the wall time includes waiting for a core. */
async function timed<T>(label: string, work: () => Promise<T> | T): Promise<T> {
  const start = performance.now();
  const cpu = process.cpuUsage();
  const result = await work();
  const { user, system } = process.cpuUsage(cpu);
  console.log(`${label}: ${((performance.now() - start) / 1000).toFixed(2)} s wall, ${((user + system) / 1e6).toFixed(2)} s CPU`);
  return result;
}

/** Upstream-shaped repositories: hashed relative paths, three replicas, the primary rotating. */
function createCommand(id: number): Uint8Array {
  const hash = createHash('sha256').update(String(id)).digest('hex');
  const primary = STORAGES[id % 3]!;
  const command: ClusterCommand = {
    type: 'create-repository',
    router: 'praefect-1',
    stampMs: 1_700_000_000_000 + id,
    repositoryId: id,
    virtualStorage: 'default',
    relativePath: `@hashed/${hash.slice(0, 2)}/${hash.slice(2, 4)}/${hash}.git`,
    replicaPath: `@cluster/repositories/${hash.slice(0, 2)}/${hash.slice(2, 4)}/${id}`,
    primary,
    assigned: STORAGES,
    updatedSecondaries: STORAGES.filter((s) => s !== primary),
  };
  return encodeCommand(command);
}

/** Three routers see every storage healthy (entries 1-3), so queries answer for a healthy cluster. */
function healthEntries(): AppliedCommand[] {
  return ['praefect-1', 'praefect-2', 'praefect-3'].map((router, i) => ({
    index: i + 1,
    term: 1,
    payload: encodeCommand({ type: 'health-update', router, stampMs: 1_700_000_000_000, reports: STORAGES.map((storage) => ({ virtualStorage: 'default', storage, healthy: true })) }),
  }));
}

async function fill(machine: ClusterStateMachine): Promise<void> {
  await machine.apply(healthEntries());
  for (let from = 1; from <= count; from += BATCH) {
    const entries: AppliedCommand[] = [];
    for (let id = from; id < Math.min(from + BATCH, count + 1); id++) entries.push({ index: id + 3, term: 1, payload: createCommand(id) });
    await machine.apply(entries);
  }
}

async function main(): Promise<void> {
  if (mode === 'restore') return restoreInMemory();
  if (mode === 'level-restore') return restoreIntoLevel();
  if (mode === 'level-open') return reopenLevel();
  console.log(`${count.toLocaleString('en')} repositories; baseline ${await memory()}`);
  const image = await build();
  const dir = mkdtempSync(join(tmpdir(), 'cluster-scale-'));
  try {
    writeFileSync(join(dir, 'snapshot'), image.data);
    const modes = withLevel ? ['restore', 'level-restore', 'level-open'] : ['restore'];
    for (const next of modes) {
      const args = ['--expose-gc', process.argv[1]!, String(count), `--mode=${next}`, `--file=${join(dir, 'snapshot')}`, `--dir=${join(dir, 'level')}`];
      spawnSync(process.execPath, args, { stdio: 'inherit' });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** As a router restarting from a snapshot: decode it into memory. */
async function restoreInMemory(): Promise<void> {
  let data: Uint8Array | undefined = readFileSync(file);
  const restored = new MemoryClusterStateMachine();
  await timed('[fresh process] restore (decode, invariant check, build)', () => restored.restore(asSnapshot({ index: count + 3, data: data! })));
  data = undefined;
  forgetDecodeCache();
  console.log(`restored ${restored.view.repositoryCount().toLocaleString('en')} repositories: ${await memory()}`);
}

/** As a LevelDB state machine installing a snapshot from the leader. */
async function restoreIntoLevel(): Promise<void> {
  const level = await LevelClusterStateMachine.open(levelDir);
  await timed('[fresh process] LevelDB restore from the snapshot (decode, write as the base image)', () => level.restore(asSnapshot({ index: count + 3, data: readFileSync(file) })));
  await level.close();
}

/** As a router restarting from its LevelDB folder. */
async function reopenLevel(): Promise<void> {
  const reopened = await timed('[fresh process] LevelDB reopen (read and decode the base image)', () => LevelClusterStateMachine.open(levelDir));
  forgetDecodeCache();
  console.log(`reopened ${reopened.view.repositoryCount().toLocaleString('en')} repositories: ${await memory()}`);
  const bumps = 20_000;
  await timed(`${bumps.toLocaleString('en')} bump-generation commands, batches of 100, each batch one LevelDB write`, () => bumpSome(reopened, bumps));
  await reopened.close();
}

/** Writes to distinct repositories, as routers acknowledging writes do. */
async function bumpSome(machine: LevelClusterStateMachine, total: number): Promise<void> {
  let index = machine.appliedIndex();
  for (let done = 0; done < total; done += 100) {
    const entries: AppliedCommand[] = [];
    for (let k = 0; k < 100; k++) {
      const id = ((done + k) * 7919) % count + 1;
      const command: ClusterCommand = { type: 'bump-generation', router: 'praefect-2', stampMs: 1_700_000_100_000, repositoryId: id, primary: STORAGES[id % 3]!, generation: 0, intentId: null, updatedSecondaries: [] };
      entries.push({ index: ++index, term: 1, payload: encodeCommand(command) });
    }
    const results = await machine.apply(entries);
    if (results.some((r) => (r as { status: string }).status !== 'ok')) throw new Error(`a bump was refused: ${JSON.stringify(results.find((r) => (r as { status: string }).status !== 'ok'))}`);
  }
}

// msgpackr keeps the strings of the last buffer it decoded; any later decode (every command, in a router) drops them.
function forgetDecodeCache(): void {
  decodeCommand(encodeCommand({ type: 'liveness-refresh', router: 'x', stampMs: 0 }));
}

/** Builds the state through commands, reports on it, and returns its snapshot; the state is dropped on return. */
async function build(): Promise<{ index: number; data: Uint8Array }> {
  const machine = new MemoryClusterStateMachine();
  await timed('apply create-repository commands', () => fill(machine));
  console.log(`state built: ${await memory()}`);
  const image = await timed('snapshot (encode)', () => machine.snapshot());
  console.log(`snapshot size: ${mib(image.data.byteLength)}; ${await memory()}`);
  await timed('dataloss scan (all healthy: lists none)', () => machine.view.dataloss().length);
  await timed('availability counts', () => machine.view.availabilityCounts());
  return image;
}

function asSnapshot(image: { index: number; data: Uint8Array }) {
  return { meta: { index: image.index, term: 1, confState: { voters: [1], learners: [] } }, data: image.data };
}

await main();

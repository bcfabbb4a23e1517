// Benchmark (not a test), issue 4 §8 "state scale": a cluster state holding
// 1,000,000 repositories, built through the state machine's own commands
// (encoded create-repository commands applied in batches to the LevelDB
// state machine, no git). It measures, in one run:
//   - applying the commands (wall and CPU), and this process's RSS holding the state;
//   - snapshot: time and size;
//   - restore of that snapshot into a fresh LevelDB state machine, in a fresh process: time, RSS;
//   - reopen of the built LevelDB folder in a fresh process (a router restart): time, RSS;
//   - a real router process (bin/praefect, a one-voter Raft group) started on that data,
//     two ways: "restart" (its state machine folder holds the state, the Raft log holds the
//     snapshot) and "from snapshot" (only the Raft log's snapshot; the driver restores at start):
//     spawn → listening → leader → fresh RepositoryMetadata → routed RepositoryExists, and its RSS.
// Targets: 1 M repositories within 1 GiB RSS per router; snapshot and restore <= 10 s each.
//
// Run: npm run build && node dist/bench/router/state-scale.js --help
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { derivedReplicaPath, LevelClusterStateMachine } from '../../src/cluster/index.js';
import { gitalyClient } from '../../src/gitaly/index.js';
import { unaryCall } from './bench-cluster.js';
import { freePort, jsonLine, spawnSibling, spawnStorageNode, stopChild } from './bench-processes.js';
import { buildScaleState, SCALE_STORAGES, SCALE_VIRTUAL_STORAGE, scaleRelativePath } from './scale-state-build.js';
import { timeRouterStart, writeRaftSnapshot, writeScaleRouterConfig, type RouterStartResult, type ScaleRouterConfig } from './scale-router-start.js';
import type { ScaleWorkerResult } from './scale-worker-main.js';
import { fixed } from './stats.js';

const TOKEN = 'bench-scale-secret';
/** The name PraefectServer stamps on proposals when none is configured: router-<raft node id>. */
const ROUTER_NAME = 'router-1';
const GIB = 2 ** 30;
const MIB = 2 ** 20;
const TARGET_RSS_BYTES = GIB;
const TARGET_SNAPSHOT_MS = 10_000;
const TARGET_RESTORE_MS = 10_000;

const USAGE = `usage: node dist/bench/router/state-scale.js [options]

  --count N        repositories (default 1000000)
  --batch N        commands per apply, as one Raft batch would carry (default 1000)
  --probe-id N     the repository the restarted router is asked about (default 3)
  --no-router      skip starting real router processes
  --keep           keep the data folder
  --help           this text
`;

interface Options {
  count: number;
  batch: number;
  probeId: number;
  router: boolean;
  keep: boolean;
}

function parseArgs(argv: string[]): Options {
  if (argv.includes('--help')) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const get = (flag: string, fallback: number): number => {
    const index = argv.indexOf(flag);
    const value = index >= 0 ? Number(argv[index + 1]) : fallback;
    if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${flag} needs a positive integer`);
    return value;
  };
  const options = { count: get('--count', 1_000_000), batch: get('--batch', 1_000), probeId: get('--probe-id', 3), router: !argv.includes('--no-router'), keep: argv.includes('--keep') };
  if (options.probeId > options.count) throw new Error('--probe-id must name one of the --count repositories');
  return options;
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; wallMs: number; cpuMs: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const value = await work();
  const used = process.cpuUsage(cpu);
  return { value, wallMs: performance.now() - started, cpuMs: (used.user + used.system) / 1e3 };
}

function progress(message: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

async function runWorker(args: string[]): Promise<ScaleWorkerResult> {
  const child = spawnSibling('scale-worker-main', args, ['--expose-gc']);
  try {
    return await jsonLine<ScaleWorkerResult>(child, (e) => typeof e['mode'] === 'string');
  } finally {
    await stopChild(child);
  }
}

interface StorageNodes {
  addresses: Map<string, string>;
  stop(): Promise<void>;
}

/** The three storage nodes the state names, each holding the probed repository at its replica path. */
async function startStorageNodes(root: string, replicaPath: string): Promise<StorageNodes> {
  const children: ReturnType<typeof spawnStorageNode>[] = [];
  const addresses = new Map<string, string>();
  try {
    for (const name of SCALE_STORAGES) {
      const dir = path.join(root, name);
      await mkdir(path.join(dir, 'storage'), { recursive: true });
      const config = path.join(dir, 'gitaly.toml');
      await writeFile(config, ['listen_addr = "127.0.0.1:0"', '[[storage]]', `name = "${name}"`, `path = ${JSON.stringify(path.join(dir, 'storage'))}`, '[auth]', `token = "${TOKEN}"`, '[logging]', 'level = "info"', ''].join('\n'));
      const child = spawnStorageNode(config);
      children.push(child);
      const { address } = await jsonLine<{ address: string }>(child, (e) => e['msg'] === 'storage node listening');
      child.stdout?.resume();
      addresses.set(name, address);
      const client = gitalyClient('gitaly.RepositoryService', address, { token: TOKEN });
      try {
        await unaryCall(client, 'CreateRepository', { repository: { storage_name: name, relative_path: replicaPath } });
      } finally {
        client.close();
      }
    }
  } catch (error) {
    await Promise.all(children.map(stopChild));
    throw error;
  }
  return { addresses, stop: async () => void (await Promise.all(children.map(stopChild))) };
}

interface Results {
  count: number;
  apply: { wallMs: number; cpuMs: number };
  builderRssBytes: number;
  snapshot: { wallMs: number; cpuMs: number; bytes: number };
  restore: ScaleWorkerResult;
  reopen: ScaleWorkerResult;
  routerRestart?: RouterStartResult;
  routerFromSnapshot?: RouterStartResult;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if ((globalThis as { gc?: unknown }).gc === undefined) progress('warning: run with node --expose-gc, or the builder RSS includes uncollected garbage');
  const root = await mkdtemp(path.join(os.tmpdir(), 'bench-router-scale-'));
  const restartDir = path.join(root, 'router-restart', 'raft');
  const fromSnapshotDir = path.join(root, 'router-from-snapshot', 'raft');
  try {
    await mkdir(restartDir, { recursive: true });
    await mkdir(fromSnapshotDir, { recursive: true });
    progress(`building ${options.count.toLocaleString('en')} repositories in ${restartDir}/cluster-state`);
    const machine = await LevelClusterStateMachine.open(path.join(restartDir, 'cluster-state'));
    const apply = await timed(() =>
      buildScaleState(machine, { count: options.count, batch: options.batch, router: ROUTER_NAME, stampMs: Date.now(), onProgress: (done) => progress(`  ${done.toLocaleString('en')} applied`) }),
    );
    gc();
    const builderRssBytes = process.memoryUsage().rss;
    progress('snapshot');
    const snapshot = await timed(() => machine.snapshot());
    const image = snapshot.value;
    await machine.close();
    const snapshotFile = path.join(root, 'snapshot.bin');
    await writeFile(snapshotFile, image.data);
    await writeRaftSnapshot(path.join(restartDir, 'raft-log'), image);
    await cp(path.join(restartDir, 'raft-log'), path.join(fromSnapshotDir, 'raft-log'), { recursive: true });
    const results: Results = {
      count: options.count,
      apply: { wallMs: apply.wallMs, cpuMs: apply.cpuMs },
      builderRssBytes,
      snapshot: { wallMs: snapshot.wallMs, cpuMs: snapshot.cpuMs, bytes: image.data.byteLength },
      restore: undefined as unknown as ScaleWorkerResult,
      reopen: undefined as unknown as ScaleWorkerResult,
    };
    progress('restore into a fresh state machine, in a fresh process');
    results.restore = await runWorker(['restore', snapshotFile, String(image.index), path.join(root, 'restored')]);
    await rm(path.join(root, 'restored'), { recursive: true, force: true });
    progress('reopen the built folder, in a fresh process');
    results.reopen = await runWorker(['reopen', path.join(restartDir, 'cluster-state')]);
    if (options.router) await measureRouters(options, root, { restartDir, fromSnapshotDir }, results);
    report(results);
  } finally {
    if (!options.keep) await rm(root, { recursive: true, force: true });
    else progress(`kept ${root}`);
  }
}

async function measureRouters(options: Options, root: string, dirs: { restartDir: string; fromSnapshotDir: string }, results: Results): Promise<void> {
  progress('starting 3 storage nodes holding the probed repository');
  const nodes = await startStorageNodes(root, derivedReplicaPath(options.probeId));
  try {
    const probe = { virtualStorage: SCALE_VIRTUAL_STORAGE, relativePath: scaleRelativePath(options.probeId), timeoutMs: 120_000, settleMs: 5_000 };
    for (const [key, dataDir] of [['routerRestart', dirs.restartDir], ['routerFromSnapshot', dirs.fromSnapshotDir]] as const) {
      const config: ScaleRouterConfig = {
        file: path.join(dataDir, '..', 'config.toml'),
        listen: `127.0.0.1:${await freePort('127.0.0.1')}`,
        raftListen: `127.0.0.1:${await freePort('127.0.0.1')}`,
        dataDir,
        token: TOKEN,
        virtualStorage: SCALE_VIRTUAL_STORAGE,
        nodes: nodes.addresses,
        deadDatabasePort: await freePort('127.0.0.1'),
        monitorIntervalMs: 1_000,
      };
      writeScaleRouterConfig(config);
      progress(`router ${key === 'routerRestart' ? 'restart (state machine folder present)' : 'from the Raft snapshot alone'}`);
      results[key] = await timeRouterStart(config, probe, path.join(dataDir, '..', 'router.log'));
    }
  } finally {
    await nodes.stop();
  }
}

function ms(value: number): string {
  return `${fixed(value)} ms`;
}

function mib(bytes: number): string {
  return `${fixed(bytes / MIB)} MiB`;
}

function verdict(met: boolean): string {
  return met ? 'met' : 'NOT met';
}

function report(r: Results): void {
  const rows: string[][] = [
    ['apply create-repository commands', `${ms(r.apply.wallMs)} wall, ${ms(r.apply.cpuMs)} CPU`, '', ''],
    ['builder process RSS holding the state (after GC)', mib(r.builderRssBytes), '', ''],
    ['snapshot (encode)', `${ms(r.snapshot.wallMs)} wall, ${ms(r.snapshot.cpuMs)} CPU`, `<= ${ms(TARGET_SNAPSHOT_MS)}`, verdict(r.snapshot.wallMs <= TARGET_SNAPSHOT_MS)],
    ['snapshot size', mib(r.snapshot.bytes), '', ''],
    ['restore into a fresh LevelDB state machine (fresh process)', `${ms(r.restore.wallMs)} wall, ${ms(r.restore.cpuMs)} CPU`, `<= ${ms(TARGET_RESTORE_MS)}`, verdict(r.restore.wallMs <= TARGET_RESTORE_MS)],
    ['  its RSS holding the state (after GC) / peak', `${mib(r.restore.rssBytes)} / ${mib(r.restore.peakRssBytes)}`, `<= ${mib(TARGET_RSS_BYTES)}`, verdict(r.restore.peakRssBytes <= TARGET_RSS_BYTES)],
    ['reopen of the LevelDB folder (fresh process)', `${ms(r.reopen.wallMs)} wall, ${ms(r.reopen.cpuMs)} CPU`, '', ''],
    ['  its RSS holding the state (after GC) / peak', `${mib(r.reopen.rssBytes)} / ${mib(r.reopen.peakRssBytes)}`, `<= ${mib(TARGET_RSS_BYTES)}`, verdict(r.reopen.peakRssBytes <= TARGET_RSS_BYTES)],
  ];
  for (const [label, start] of [['router restart', r.routerRestart], ['router from the Raft snapshot', r.routerFromSnapshot]] as const) {
    if (start === undefined) continue;
    rows.push(
      [`${label}: spawn → listening`, ms(start.listeningMs), '', ''],
      [`${label}: spawn → Raft leader`, ms(start.leaderMs), '', ''],
      [`${label}: spawn → fresh RepositoryMetadata`, ms(start.metadataMs), '', ''],
      [`${label}: spawn → routed RepositoryExists`, ms(start.existsMs), '', ''],
      [`${label}: RSS serving / 5 s later / peak`, `${mib(start.rssBytes)} / ${mib(start.settledRssBytes)} / ${mib(start.peakRssBytes)}`, `<= ${mib(TARGET_RSS_BYTES)}`, verdict(Math.max(start.peakRssBytes, start.settledRssBytes) <= TARGET_RSS_BYTES)],
    );
  }
  console.log(`\nstate scale: ${r.count.toLocaleString('en')} repositories (${os.cpus().length} cores, node ${process.version}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')})`);
  console.log('| measure | value | target | verdict |');
  console.log('|---|--:|---|---|');
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
  console.log(`\n${JSON.stringify({ bench: 'router-state-scale', ...r })}`);
}

await main();

// Benchmark (not a test), issue 4 §8: git clone through a router vs direct,
// in one run, over the same generated repository (bench/gitaly/generate-repo.ts):
//   router  git clone -> git HTTP gateway -> a router of a real 3-router LocalCluster -> storage node
//   direct  git clone -> a git HTTP gateway of its own -> the same storage node (physical names)
// Rounds alternate the order. Target: clone through a router >= 85 % of direct.
//
// Run: npm run build && node dist/bench/router/clone.js --help
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { benchArgs } from './bench-args.js';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { findProjectRoot } from '../../src/protocol/index.js';
import { leaderIndex, startBenchCluster } from './bench-cluster.js';
import { cpuMicros, jsonLine, stopChild } from './bench-processes.js';
import { generatedClusterRepository } from './cluster-repository.js';
import { fixed, median } from './stats.js';

const execFileAsync = promisify(execFile);
const GIT_ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
const MIB = 2 ** 20;
const TARGET_RATIO = 0.85;
const RELATIVE_PATH = 'bench/clone.git';

const USAGE = `usage: node dist/bench/router/clone.js [options]

  --mb N        repository size in MiB of incompressible 1 MiB blobs (default 64)
  --rounds N    timed clones per way, alternating (default 5)
  --storages N  storage nodes of the cluster (default 1)
  --keep        keep the cluster's folder (logs) after the run
  --help        this text
`;

interface Options {
  mib: number;
  rounds: number;
  storages: number;
  keep: boolean;
}

type Way = 'router' | 'direct';

interface CloneSample {
  way: Way;
  round: number;
  seconds: number;
  /** CPU seconds of the processes on the path, during this clone. */
  cpu: { gateway: number; routers: number; node: number };
}

function parseArgs(argv: string[]): Options {
  const args = benchArgs(argv, USAGE);
  const get = (flag: string, fallback: number): number => args.positive(flag, fallback);
  return { mib: get('--mb', 64), rounds: get('--rounds', 5), storages: get('--storages', 1), keep: argv.includes('--keep') };
}

/** A gateway of our own straight to the storage node, its storage named physically. */
async function startDirectGateway(nodeAddress: string, storage: string, token: string): Promise<{ child: ChildProcess; address: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_GATEWAY_TOKEN: token };
  delete env['NODE_OPTIONS'];
  const child = spawn(process.execPath, [path.join(findProjectRoot(), 'bin', 'git-gateway'), '--listen', '127.0.0.1:0', '--target', nodeAddress, '--storage', storage], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const { address } = await jsonLine<{ address: string }>(child, (e) => e['msg'] === 'git gateway listening');
  child.stdout?.resume();
  return { child, address };
}

async function timedClone(url: string, into: string): Promise<number> {
  await rm(into, { recursive: true, force: true });
  const started = performance.now();
  await execFileAsync('git', ['clone', '--quiet', '--bare', '--no-local', url, into], { env: GIT_ENV, maxBuffer: 1024 * 1024 });
  return (performance.now() - started) / 1000;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  process.stderr.write(`starting a local cluster: 3 routers, ${options.storages} storage node(s), embedded PostgreSQL, git gateway\n`);
  const bench = await startBenchCluster({ routers: 3, storages: options.storages, keep: options.keep });
  let direct: { child: ChildProcess; address: string } | undefined;
  const samples: CloneSample[] = [];
  const notes: string[] = [];
  let megabytes: number | undefined;
  try {
    const leader = await leaderIndex(bench);
    process.stderr.write(`generating a ${options.mib} MiB repository on the primary\n`);
    const repo = await generatedClusterRepository(bench, leader, RELATIVE_PATH, { totalBytes: options.mib * MIB, blobBytes: MIB });
    megabytes = repo.totalBlobBytes / 1e6;
    direct = await startDirectGateway(repo.node.address, repo.metadata.primary, bench.token);
    const urls: Record<Way, string> = { router: `${bench.cluster.gitUrl}/${RELATIVE_PATH}`, direct: `http://${direct.address}/${repo.metadata.replica_path}` };
    const gatewayPid: Record<Way, number> = { router: bench.cluster.gateway.process.pid as number, direct: direct.child.pid as number };
    const routerPids = bench.cluster.routers.map((r) => r.process.pid as number);
    const into = path.join(bench.dir, 'clone.git');
    notes.push(`repository: ${fixed(repo.totalBlobBytes / MIB)} MiB of incompressible blobs on ${repo.node.name}; the cluster's gateway has one channel over all 3 routers (leader ${bench.cluster.routers[leader]!.name})`);
    // One untimed clone each warms the page cache and every process on the path.
    for (const way of ['direct', 'router'] as const) await timedClone(urls[way], into);
    for (let round = 0; round < options.rounds; round++) {
      const order: Way[] = round % 2 === 0 ? ['router', 'direct'] : ['direct', 'router'];
      for (const way of order) {
        const cpu = (): { gateway: number; routers: number; node: number } => ({
          gateway: cpuMicros(gatewayPid[way]) / 1e6,
          routers: routerPids.reduce((sum, pid) => sum + cpuMicros(pid), 0) / 1e6,
          node: cpuMicros(repo.node.pid) / 1e6,
        });
        const before = cpu();
        const seconds = await timedClone(urls[way], into);
        const after = cpu();
        samples.push({ way, round, seconds, cpu: { gateway: after.gateway - before.gateway, routers: after.routers - before.routers, node: after.node - before.node } });
        process.stderr.write(`round ${round + 1} ${way}: ${fixed(megabytes / seconds, 1)} MB/s (${fixed(seconds, 2)} s)\n`);
      }
    }
  } finally {
    if (direct !== undefined) await stopChild(direct.child);
    await bench.stop();
  }
  report(samples, megabytes ?? Number.NaN, options, notes);
}

function report(samples: CloneSample[], megabytes: number, options: Options, notes: string[]): void {
  for (const note of notes) console.log(note);
  const of = (way: Way): CloneSample[] => samples.filter((s) => s.way === way);
  const ratios = of('router').map((r) => {
    const d = samples.find((s) => s.way === 'direct' && s.round === r.round);
    return d === undefined ? Number.NaN : d.seconds / r.seconds;
  });
  console.log(`\nclone of ${fixed(megabytes)} MB, ${options.rounds} timed clones per way, alternating (${os.cpus().length} cores, load ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')})`);
  console.log('| way | MB/s (median) | seconds per clone | gateway CPU s/clone | routers CPU s/clone | node CPU s/clone |');
  console.log('|---|--:|---|--:|--:|--:|');
  for (const way of ['direct', 'router'] as const) {
    const mine = of(way);
    console.log(`| ${way} | ${fixed(megabytes / median(mine.map((s) => s.seconds)), 1)} | ${mine.map((s) => fixed(s.seconds, 2)).join(', ')} | ${fixed(median(mine.map((s) => s.cpu.gateway)), 2)} | ${way === 'direct' ? '-' : fixed(median(mine.map((s) => s.cpu.routers)), 2)} | ${fixed(median(mine.map((s) => s.cpu.node)), 2)} |`);
  }
  const ratio = median(ratios);
  console.log(`\nratio router/direct (median of per-round ratios ${ratios.map((r) => fixed(r, 2)).join(', ')}): ${fixed(ratio, 2)} — target >= ${TARGET_RATIO}: ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'}`);
  console.log(`\n${JSON.stringify({ bench: 'router-clone', options, megabytes, samples })}`);
}

await main();

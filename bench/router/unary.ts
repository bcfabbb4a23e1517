// Benchmark (not a test), issue 4 §8: unary forwarding of an accessor that
// reaches a node (RepositoryExists), measured side by side in one run:
//   direct            client -> storage node
//   router            client -> our forwarder (src/proxy: auth check, peek, route, rewrite, token swap) with a static route -> node
//   bare              client -> a bare grpc-js byte proxy (bench/router/bare-proxy.ts) -> node
//   h2                client -> our node:http2 frame-level forwarder with a static route -> node
//   cluster           client -> the Raft leader of a real 3-router LocalCluster (bin/praefect: fresh routing
//                     through ReadIndex, per-call log line, metrics) -> node
//   cluster-follower  the same through a router that is a Raft follower (its ReadIndex asks the leader)
// Client, proxy and node are separate processes. Rounds interleave the ways
// (rotating the order) so drifting background load hits all alike. With a
// cluster way, every way uses the cluster's storage node (the repository's
// primary), so all ways reach the same node process.
//
// Run: npm run build && node dist/bench/router/unary.js --help
// Targets (issue 4 §8): through a router >= 80 % of direct's calls/s, at
// <= 120 µs of router CPU per call. The last lines say which way met them.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { benchArgs } from './bench-args.js';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { v2TokenInterceptor } from '../../src/auth/index.js';
import { requireService } from '../../src/protocol/index.js';
import { createRepositoryThrough, leaderIndex, startBenchCluster, type BenchCluster } from './bench-cluster.js';
import { BENCH_PHYSICAL_REPOSITORY, BENCH_RELATIVE_PATH, BENCH_VIRTUAL_STORAGE, type PhysicalRepository, type ProxyMode } from './bench-setup.js';
import { cpuMicros, jsonLine, machineTicks, spawnSibling, spawnStorageNode, stopChild } from './bench-processes.js';
import type { ClientJob, ClientResult } from './client-main.js';
import { fixed, median } from './stats.js';

type ClusterWay = 'cluster' | 'cluster-follower';
type Way = 'direct' | ProxyMode | ClusterWay;
const ALL_WAYS: readonly Way[] = ['direct', 'router', 'bare', 'h2', 'cluster', 'cluster-follower'];
const OWN_TOKEN = 'bench-router-secret';
const TARGET_RATIO = 0.8;
const TARGET_PROXY_US_PER_CALL = 120;
const IDLE_SAMPLE_MS = 3_000;

const USAGE = `usage: node dist/bench/router/unary.js [options]

  --rounds N             rounds; each runs every way at every concurrency (default 3)
  --seconds S            measured seconds per cell, after 1 s of warm-up (default 4)
  --concurrency LIST     callers per client, comma-separated (default 1,16,64)
  --ways LIST            of ${ALL_WAYS.join(',')} (default: all; direct is always added)
  --storages N           storage nodes of the cluster (default 1)
  --monitor-interval-ms  the cluster routers' health probe interval (default 1000)
  --cpu-prof DIR         V8 CPU profiles of the bench's own proxies (and of its own node, when no cluster way runs)
  --keep                 keep the cluster's folder (logs) after the run
  --help                 this text
`;

interface Options {
  rounds: number;
  seconds: number;
  concurrency: number[];
  ways: Way[];
  storages: number;
  monitorIntervalMs: number;
  cpuProfDir: string | undefined;
  keep: boolean;
}

interface Sample {
  way: Way;
  concurrency: number;
  round: number;
  result: ClientResult;
  /** The serving proxy or router process. */
  proxyUsPerCall: number;
  /** Every router of the cluster together (cluster ways only). */
  routersUsPerCall: number | undefined;
  nodeUsPerCall: number;
  clientUsPerCall: number;
  /** This orchestrating process: it reads the cluster processes' log lines. */
  benchUsPerCall: number;
  /** Cores busy on the whole machine during the window, beyond client, proxy, routers, node and bench. */
  otherCores: number;
}

/** The node every way reaches, and how the ways that bypass routing name the repository there. */
interface Target {
  nodeAddress: string;
  nodePid: number;
  token: string;
  physical: PhysicalRepository;
  cluster?: { bench: BenchCluster; leader: number; follower: number };
  stop(): Promise<void>;
}

function parseArgs(argv: string[]): Options {
  const get = benchArgs(argv, USAGE).value;
  const ways = (get('--ways') ?? ALL_WAYS.join(',')).split(',') as Way[];
  const unknown = ways.filter((w) => !ALL_WAYS.includes(w));
  if (unknown.length > 0) throw new Error(`unknown ways ${unknown.join(', ')}; known: ${ALL_WAYS.join(', ')}`);
  if (!ways.includes('direct')) ways.unshift('direct');
  return {
    rounds: Number(get('--rounds') ?? 3),
    seconds: Number(get('--seconds') ?? 4),
    concurrency: (get('--concurrency') ?? '1,16,64').split(',').map(Number),
    ways,
    storages: Number(get('--storages') ?? 1),
    monitorIntervalMs: Number(get('--monitor-interval-ms') ?? 1_000),
    cpuProfDir: get('--cpu-prof'),
    keep: argv.includes('--keep'),
  };
}

function isClusterWay(way: Way): way is ClusterWay {
  return way === 'cluster' || way === 'cluster-follower';
}

async function startOwnNode(dir: string, nodeFlags: string[]): Promise<Target> {
  const storage = path.join(dir, 'storage');
  await mkdir(storage);
  const config = path.join(dir, 'gitaly.toml');
  const physical = BENCH_PHYSICAL_REPOSITORY;
  await writeFile(config, ['listen_addr = "127.0.0.1:0"', '[[storage]]', `name = "${physical.storage}"`, `path = ${JSON.stringify(storage)}`, '[auth]', `token = "${OWN_TOKEN}"`, '[logging]', 'level = "info"', ''].join('\n'));
  const child = spawnStorageNode(config, nodeFlags);
  const { address } = await jsonLine<{ address: string }>(child, (e) => e['msg'] === 'storage node listening');
  child.stdout?.resume();
  await createPhysicalRepository(address, OWN_TOKEN, physical);
  return { nodeAddress: address, nodePid: child.pid as number, token: OWN_TOKEN, physical, stop: () => stopChild(child) };
}

/** A 3-router cluster; the repository is created through its leader, and every way uses its primary. */
async function startClusterTarget(options: Options): Promise<Target> {
  process.stderr.write(`starting a local cluster: 3 routers, ${options.storages} storage node(s), embedded PostgreSQL\n`);
  const bench = await startBenchCluster({ routers: 3, storages: options.storages, monitorIntervalMs: options.monitorIntervalMs, keep: options.keep });
  try {
    const leader = await leaderIndex(bench);
    const metadata = await createRepositoryThrough(bench, leader, BENCH_RELATIVE_PATH);
    const node = bench.cluster.storage(metadata.primary);
    return {
      nodeAddress: node.address,
      nodePid: node.process.pid as number,
      token: bench.token,
      physical: { storage: metadata.primary, replicaPath: metadata.replica_path },
      cluster: { bench, leader, follower: (leader + 1) % bench.cluster.routers.length },
      stop: () => bench.stop(),
    };
  } catch (error) {
    await bench.stop();
    throw error;
  }
}

function createPhysicalRepository(address: string, token: string, physical: PhysicalRepository): Promise<void> {
  const Client = grpc.makeGenericClientConstructor(requireService('gitaly.RepositoryService'), 'gitaly.RepositoryService');
  const client = new Client(address, grpc.credentials.createInsecure(), { interceptors: [v2TokenInterceptor(token)] }) as unknown as grpc.Client & {
    CreateRepository(request: object, callback: (error: grpc.ServiceError | null) => void): void;
  };
  return new Promise((resolve, reject) =>
    client.CreateRepository({ repository: { storage_name: physical.storage, relative_path: physical.replicaPath } }, (error) => {
      client.close();
      if (error !== null) reject(error);
      else resolve();
    }),
  );
}

async function startProxy(mode: ProxyMode, target: Target, nodeFlags: string[]): Promise<{ address: string; child: ReturnType<typeof spawnSibling> }> {
  const child = spawnSibling('proxy-main', [mode, target.nodeAddress, target.token, target.physical.storage, target.physical.replicaPath], nodeFlags);
  const { address } = await jsonLine<{ address: string }>(child, (e) => typeof e['address'] === 'string');
  return { address, child };
}

interface Pids {
  node: number;
  proxy?: number;
  routers: number[];
}

function cpuOf(pids: Pids): { node: number; proxy: number; routers: number; bench: number; machine: ReturnType<typeof machineTicks> } {
  const bench = process.cpuUsage();
  return {
    node: cpuMicros(pids.node),
    proxy: pids.proxy === undefined ? 0 : cpuMicros(pids.proxy),
    routers: pids.routers.reduce((sum, pid) => sum + cpuMicros(pid), 0),
    bench: bench.user + bench.system,
    machine: machineTicks(),
  };
}

async function measure(job: ClientJob, pids: Pids, clusterWay: boolean): Promise<Omit<Sample, 'way' | 'concurrency' | 'round'>> {
  const client = spawnSibling('client-main', [JSON.stringify(job)]);
  await jsonLine(client, (e) => e['phase'] === 'measuring');
  const before = cpuOf(pids);
  const result = await jsonLine<ClientResult>(client, (e) => e['phase'] === 'done');
  const after = cpuOf(pids);
  await stopChild(client);
  const calls = Math.max(result.calls, 1);
  const seconds = result.seconds;
  const busyCores = ((after.machine.busy - before.machine.busy) / (after.machine.total - before.machine.total)) * os.cpus().length;
  // The serving router is one of the routers: count the routers once.
  const routersUs = after.routers - before.routers;
  const proxyUs = after.proxy - before.proxy;
  const ours = (after.node - before.node + (clusterWay ? routersUs : proxyUs + routersUs) + after.bench - before.bench + result.cpuUs) / 1e6 / seconds;
  return {
    result,
    proxyUsPerCall: proxyUs / calls,
    routersUsPerCall: clusterWay ? routersUs / calls : undefined,
    nodeUsPerCall: (after.node - before.node) / calls,
    clientUsPerCall: result.cpuUs / calls,
    benchUsPerCall: (after.bench - before.bench) / calls,
    otherCores: Math.max(0, busyCores - ours),
  };
}

/** Cores the routers use with no client load: Raft ticks, health probes, health publishing. */
async function idleRouterCores(pids: number[]): Promise<number> {
  const before = pids.reduce((sum, pid) => sum + cpuMicros(pid), 0);
  await new Promise((resolve) => setTimeout(resolve, IDLE_SAMPLE_MS));
  const after = pids.reduce((sum, pid) => sum + cpuMicros(pid), 0);
  return (after - before) / 1e3 / IDLE_SAMPLE_MS;
}

/** Median ratio over direct (paired by round) and median proxy CPU per call. */
function summary(samples: Sample[], way: Way, concurrency: number): { ratio: number; proxyUs: number } {
  const mine = samples.filter((s) => s.way === way && s.concurrency === concurrency);
  const ratios = mine.map((s) => {
    const direct = samples.find((d) => d.way === 'direct' && d.concurrency === concurrency && d.round === s.round);
    return direct === undefined ? Number.NaN : s.result.callsPerSec / direct.result.callsPerSec;
  });
  return { ratio: median(ratios), proxyUs: median(mine.map((s) => s.proxyUsPerCall)) };
}

function report(samples: Sample[], options: Options, notes: string[]): void {
  for (const note of notes) console.log(note);
  for (const concurrency of options.concurrency) {
    console.log(`\nconcurrency ${concurrency} (${options.rounds} rounds of ${options.seconds} s; medians; ratio = calls/s over direct's in the same round)`);
    console.log(['way', 'calls/s', 'ratio', 'p50 µs', 'p99 µs', 'proxy CPU µs/call', 'all routers µs/call', 'node µs/call', 'client µs/call', 'bench µs/call', 'other cores', 'errors'].join(' | '));
    for (const way of options.ways) {
      const mine = samples.filter((s) => s.way === way && s.concurrency === concurrency);
      const m = (pick: (s: Sample) => number): number => median(mine.map(pick));
      console.log([
        way,
        fixed(m((s) => s.result.callsPerSec)),
        fixed(summary(samples, way, concurrency).ratio, 2),
        fixed(m((s) => s.result.p50Us)),
        fixed(m((s) => s.result.p99Us)),
        way === 'direct' ? '-' : fixed(m((s) => s.proxyUsPerCall)),
        isClusterWay(way) ? fixed(m((s) => s.routersUsPerCall ?? Number.NaN)) : '-',
        fixed(m((s) => s.nodeUsPerCall)),
        fixed(m((s) => s.clientUsPerCall)),
        fixed(m((s) => s.benchUsPerCall)),
        fixed(m((s) => s.otherCores), 2),
        String(mine.reduce((sum, s) => sum + s.result.errors, 0)) + (mine.find((s) => s.result.firstError)?.result.firstError ? ` (${mine.find((s) => s.result.firstError)?.result.firstError})` : ''),
      ].join(' | '));
    }
  }
  console.log(`\ntargets: ratio >= ${TARGET_RATIO}, proxy (serving router) CPU <= ${TARGET_PROXY_US_PER_CALL} µs/call`);
  for (const way of options.ways.filter((w) => w !== 'direct')) {
    const verdicts = options.concurrency.map((concurrency) => {
      const { ratio, proxyUs } = summary(samples, way, concurrency);
      const met = ratio >= TARGET_RATIO && proxyUs <= TARGET_PROXY_US_PER_CALL;
      return `c=${concurrency}: ${fixed(ratio, 2)} at ${fixed(proxyUs)} µs ${met ? 'met' : 'not met'}`;
    });
    console.log(`  ${way}: ${verdicts.join('; ')}`);
  }
  console.log(`\n${JSON.stringify({ bench: 'router-unary', options, samples })}`);
}

function jobFor(way: Way, concurrency: number, target: Target, address: string, options: Options): ClientJob {
  // direct and bare reach the node unrouted, so they name the physical repository.
  const physical = way === 'direct' || way === 'bare';
  const virtualStorage = isClusterWay(way) ? (target.cluster?.bench.virtualStorage ?? BENCH_VIRTUAL_STORAGE) : BENCH_VIRTUAL_STORAGE;
  return {
    target: address,
    storage: physical ? target.physical.storage : virtualStorage,
    relativePath: physical ? target.physical.replicaPath : BENCH_RELATIVE_PATH,
    token: target.token,
    concurrency,
    warmupMs: 1_000,
    durationMs: options.seconds * 1_000,
  };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-router-'));
  const profFlags = (name: string): string[] => (options.cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${path.join(options.cpuProfDir, name)}`]);
  let target: Target;
  try {
    target = options.ways.some(isClusterWay) ? await startClusterTarget(options) : await startOwnNode(dir, profFlags('node'));
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const proxies = new Map<ProxyMode, Awaited<ReturnType<typeof startProxy>>>();
  const samples: Sample[] = [];
  const notes: string[] = [];
  try {
    for (const way of options.ways) if (way === 'router' || way === 'bare' || way === 'h2') proxies.set(way, await startProxy(way, target, profFlags(way)));
    const cluster = target.cluster;
    const routerPids = cluster?.bench.cluster.routers.map((r) => r.process.pid as number) ?? [];
    if (cluster !== undefined) {
      const { routers } = cluster.bench.cluster;
      notes.push(`cluster: 3 routers (leader ${routers[cluster.leader]!.name}, follower used ${routers[cluster.follower]!.name}), ${options.storages} storage node(s), monitor interval ${options.monitorIntervalMs} ms; every way reaches ${target.physical.storage}`);
      notes.push(`idle CPU of the 3 routers (Raft ticks, probes, health publishing): ${fixed(await idleRouterCores(routerPids), 3)} cores`);
    }
    for (let round = 0; round < options.rounds; round++) {
      for (const concurrency of options.concurrency) {
        const order = options.ways.map((_, i) => options.ways[(i + round) % options.ways.length] as Way);
        for (const way of order) {
          const serving = isClusterWay(way) && cluster !== undefined ? cluster.bench.cluster.routers[way === 'cluster' ? cluster.leader : cluster.follower]! : undefined;
          const proxy = way === 'router' || way === 'bare' || way === 'h2' ? proxies.get(way) : undefined;
          const address = serving?.address ?? proxy?.address ?? target.nodeAddress;
          const proxyPid = serving?.process.pid ?? proxy?.child.pid;
          const pids: Pids = { node: target.nodePid, routers: routerPids, ...(proxyPid !== undefined ? { proxy: proxyPid } : {}) };
          const measured = await measure(jobFor(way, concurrency, target, address, options), pids, isClusterWay(way));
          samples.push({ way, concurrency, round, ...measured });
          process.stderr.write(`round ${round + 1} c=${concurrency} ${way}: ${fixed(measured.result.callsPerSec)} calls/s, proxy ${fixed(measured.proxyUsPerCall)} µs/call${measured.result.errors > 0 ? `, ${measured.result.errors} errors` : ''}\n`);
        }
      }
    }
    if (cluster !== undefined) {
      const leaderNow = await leaderIndex(cluster.bench);
      if (leaderNow !== cluster.leader) notes.push(`* the Raft leader changed during the run (now ${cluster.bench.cluster.routers[leaderNow]!.name}): the cluster rows mix leader and follower`);
    }
  } finally {
    for (const proxy of proxies.values()) await stopChild(proxy.child);
    await target.stop();
    await rm(dir, { recursive: true, force: true });
  }
  report(samples, options, notes);
}

await main();

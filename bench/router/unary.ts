// Benchmark (not a test), issue 4 §8: unary forwarding of an accessor that
// reaches a node (RepositoryExists), measured side by side in one run:
//   direct  client -> storage node
//   router  client -> our forwarder (src/proxy: auth check, peek, route, rewrite, token swap) -> node
//   bare    client -> a bare grpc-js byte proxy (bench/router/bare-proxy.ts) -> node
//   h2      client -> our node:http2 frame-level forwarder -> node
// Client, proxy and node are separate processes. Rounds interleave the ways
// (rotating the order) so drifting background load hits all alike.
//
// Run: npm run build && node dist/bench/router/unary.js [--rounds 5] [--seconds 5]
//        [--concurrency 1,16,64] [--ways direct,router,bare,h2] [--cpu-prof DIR]
// Targets (issue 4 §8): through a router >= 80 % of direct's calls/s, at
// <= 120 µs of router CPU per call. The last lines say which way met them.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { v2TokenInterceptor } from '../../src/auth/index.js';
import { requireService } from '../../src/protocol/index.js';
import { BENCH_PHYSICAL_STORAGE, BENCH_RELATIVE_PATH, BENCH_REPLICA_PATH, BENCH_VIRTUAL_STORAGE, type ProxyMode } from './bench-setup.js';
import { cpuMicros, jsonLine, machineTicks, spawnSibling, spawnStorageNode, stopChild } from './bench-processes.js';
import type { ClientJob, ClientResult } from './client-main.js';
import { fixed, median } from './stats.js';

type Way = 'direct' | ProxyMode;
const TOKEN = 'bench-router-secret';
const TARGET_RATIO = 0.8;
const TARGET_PROXY_US_PER_CALL = 120;

interface Options {
  rounds: number;
  seconds: number;
  concurrency: number[];
  ways: Way[];
  cpuProfDir: string | undefined;
}

interface Sample {
  way: Way;
  concurrency: number;
  round: number;
  result: ClientResult;
  proxyUsPerCall: number;
  nodeUsPerCall: number;
  clientUsPerCall: number;
  /** Cores busy on the whole machine during the window, beyond client, proxy and node. */
  otherCores: number;
}

function parseArgs(argv: string[]): Options {
  const get = (flag: string): string | undefined => {
    const index = argv.indexOf(flag);
    return index >= 0 ? argv[index + 1] : undefined;
  };
  const ways = (get('--ways') ?? 'direct,router,bare,h2').split(',') as Way[];
  if (!ways.includes('direct')) ways.unshift('direct');
  return {
    rounds: Number(get('--rounds') ?? 5),
    seconds: Number(get('--seconds') ?? 5),
    concurrency: (get('--concurrency') ?? '1,16,64').split(',').map(Number),
    ways,
    cpuProfDir: get('--cpu-prof'),
  };
}

async function startNode(dir: string, nodeFlags: string[]): Promise<{ address: string; child: ReturnType<typeof spawnStorageNode> }> {
  const storage = path.join(dir, 'storage');
  await mkdir(storage);
  const config = path.join(dir, 'gitaly.toml');
  await writeFile(config, ['listen_addr = "127.0.0.1:0"', '[[storage]]', `name = "${BENCH_PHYSICAL_STORAGE}"`, `path = ${JSON.stringify(storage)}`, '[auth]', `token = "${TOKEN}"`, '[logging]', 'level = "info"', ''].join('\n'));
  const child = spawnStorageNode(config, nodeFlags);
  const { address } = await jsonLine<{ address: string }>(child, (e) => e['msg'] === 'storage node listening');
  child.stdout?.resume();
  return { address, child };
}

function createRepository(address: string): Promise<void> {
  const Client = grpc.makeGenericClientConstructor(requireService('gitaly.RepositoryService'), 'gitaly.RepositoryService');
  const client = new Client(address, grpc.credentials.createInsecure(), { interceptors: [v2TokenInterceptor(TOKEN)] }) as unknown as grpc.Client & {
    CreateRepository(request: object, callback: (error: grpc.ServiceError | null) => void): void;
  };
  return new Promise((resolve, reject) =>
    client.CreateRepository({ repository: { storage_name: BENCH_PHYSICAL_STORAGE, relative_path: BENCH_REPLICA_PATH } }, (error) => {
      client.close();
      if (error !== null) reject(error);
      else resolve();
    }),
  );
}

async function startProxy(mode: ProxyMode, nodeAddress: string, nodeFlags: string[]): Promise<{ address: string; child: ReturnType<typeof spawnSibling> }> {
  const child = spawnSibling('proxy-main', [mode, nodeAddress, TOKEN], nodeFlags);
  const { address } = await jsonLine<{ address: string }>(child, (e) => typeof e['address'] === 'string');
  return { address, child };
}

async function measure(job: ClientJob, pids: { node: number; proxy?: number }): Promise<Omit<Sample, 'way' | 'concurrency' | 'round'>> {
  const client = spawnSibling('client-main', [JSON.stringify(job)]);
  await jsonLine(client, (e) => e['phase'] === 'measuring');
  const before = { node: cpuMicros(pids.node), proxy: pids.proxy === undefined ? 0 : cpuMicros(pids.proxy), machine: machineTicks() };
  const result = await jsonLine<ClientResult>(client, (e) => e['phase'] === 'done');
  const after = { node: cpuMicros(pids.node), proxy: pids.proxy === undefined ? 0 : cpuMicros(pids.proxy), machine: machineTicks() };
  await stopChild(client);
  const calls = Math.max(result.calls, 1);
  const seconds = result.seconds;
  const busyCores = ((after.machine.busy - before.machine.busy) / (after.machine.total - before.machine.total)) * os.cpus().length;
  const ours = (after.node - before.node + after.proxy - before.proxy + result.cpuUs) / 1e6 / seconds;
  return {
    result,
    proxyUsPerCall: (after.proxy - before.proxy) / calls,
    nodeUsPerCall: (after.node - before.node) / calls,
    clientUsPerCall: result.cpuUs / calls,
    otherCores: Math.max(0, busyCores - ours),
  };
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

function report(samples: Sample[], options: Options): void {
  for (const concurrency of options.concurrency) {
    console.log(`\nconcurrency ${concurrency} (${options.rounds} rounds of ${options.seconds} s; medians; ratio = calls/s over direct's in the same round)`);
    console.log(['way', 'calls/s', 'ratio', 'p50 µs', 'p99 µs', 'proxy CPU µs/call', 'node µs/call', 'client µs/call', 'other cores', 'errors'].join(' | '));
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
        fixed(m((s) => s.nodeUsPerCall)),
        fixed(m((s) => s.clientUsPerCall)),
        fixed(m((s) => s.otherCores), 2),
        String(mine.reduce((sum, s) => sum + s.result.errors, 0)),
      ].join(' | '));
    }
  }
  console.log(`\ntargets: ratio >= ${TARGET_RATIO}, proxy CPU <= ${TARGET_PROXY_US_PER_CALL} µs/call`);
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

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-router-'));
  const profFlags = (name: string): string[] => (options.cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${path.join(options.cpuProfDir, name)}`]);
  const node = await startNode(dir, profFlags('node'));
  await createRepository(node.address);
  const proxies = new Map<ProxyMode, Awaited<ReturnType<typeof startProxy>>>();
  for (const way of options.ways) if (way !== 'direct') proxies.set(way, await startProxy(way, node.address, profFlags(way)));
  const samples: Sample[] = [];
  try {
    for (let round = 0; round < options.rounds; round++) {
      for (const concurrency of options.concurrency) {
        const order = options.ways.map((_, i) => options.ways[(i + round) % options.ways.length] as Way);
        for (const way of order) {
          const proxy = way === 'direct' ? undefined : proxies.get(way);
          // The bare proxy rewrites nothing: its client names the physical repository.
          const physical = way === 'direct' || way === 'bare';
          const job: ClientJob = {
            target: proxy?.address ?? node.address,
            storage: physical ? BENCH_PHYSICAL_STORAGE : BENCH_VIRTUAL_STORAGE,
            relativePath: physical ? BENCH_REPLICA_PATH : BENCH_RELATIVE_PATH,
            token: TOKEN,
            concurrency,
            warmupMs: 1_000,
            durationMs: options.seconds * 1_000,
          };
          const pids = { node: node.child.pid as number, ...(proxy !== undefined ? { proxy: proxy.child.pid as number } : {}) };
          const measured = await measure(job, pids);
          samples.push({ way, concurrency, round, ...measured });
          process.stderr.write(`round ${round + 1} c=${concurrency} ${way}: ${fixed(measured.result.callsPerSec)} calls/s, proxy ${fixed(measured.proxyUsPerCall)} µs/call\n`);
        }
      }
    }
  } finally {
    for (const proxy of proxies.values()) await stopChild(proxy.child);
    await stopChild(node.child);
    await rm(dir, { recursive: true, force: true });
  }
  report(samples, options);
}

await main();

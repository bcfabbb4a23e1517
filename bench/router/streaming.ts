// Benchmark (not a test), issue 4 §8: streaming through a router vs direct,
// side by side in one run, over a generated repository of incompressible blobs:
//   blob         GetBlob of one large blob: server streaming (many data messages)
//   upload-pack  SSHUploadPack fetching the whole repository: bidi (wants in, pack out)
// Ways: direct (client -> storage node, physical names), cluster (client -> the
// Raft leader of a real 3-router LocalCluster -> node), cluster-follower (through
// a router that is a Raft follower). Client, routers and node are separate
// processes; rounds rotate the order of the ways.
// Targets: server streaming >= 90 % of direct, bidi >= 75 %.
//
// Run: npm run build && node dist/bench/router/streaming.js --help
import os from 'node:os';
import { benchArgs } from './bench-args.js';
import { leaderIndex, startBenchCluster } from './bench-cluster.js';
import { cpuMicros, jsonLine, machineTicks, spawnSibling, stopChild } from './bench-processes.js';
import { generatedClusterRepository, type ClusterRepository } from './cluster-repository.js';
import type { StreamJob, StreamKind, StreamResult } from './stream-client-main.js';
import { fixed, median } from './stats.js';

type Way = 'direct' | 'cluster' | 'cluster-follower';
const ALL_WAYS: readonly Way[] = ['direct', 'cluster', 'cluster-follower'];
const ALL_KINDS: readonly StreamKind[] = ['blob', 'upload-pack'];
const TARGET_RATIO: Record<StreamKind, number> = { blob: 0.9, 'upload-pack': 0.75 };
const MIB = 2 ** 20;
const RELATIVE_PATH = 'bench/streaming.git';

const USAGE = `usage: node dist/bench/router/streaming.js [options]

  --rounds N            rounds (default 3)
  --seconds S           measured seconds per cell, after 1 s of warm-up (default 4)
  --concurrency LIST    streams in flight per client (default 1,4)
  --kinds LIST          of ${ALL_KINDS.join(',')} (default: both)
  --ways LIST           of ${ALL_WAYS.join(',')} (default: all; direct is always added)
  --mb N                repository size in MiB (default 32)
  --blob-mb N           size of each blob in MiB; GetBlob reads one (default 8)
  --storages N          storage nodes of the cluster (default 1)
  --keep                keep the cluster's folder (logs) after the run
  --help                this text
`;

interface Options {
  rounds: number;
  seconds: number;
  concurrency: number[];
  kinds: StreamKind[];
  ways: Way[];
  mib: number;
  blobMib: number;
  storages: number;
  keep: boolean;
}

interface Sample {
  kind: StreamKind;
  way: Way;
  concurrency: number;
  round: number;
  result: StreamResult;
  /** CPU of the serving router per MB delivered. */
  routerUsPerMb: number;
  routersUsPerMb: number;
  nodeUsPerMb: number;
  otherCores: number;
}

function parseArgs(argv: string[]): Options {
  const get = benchArgs(argv, USAGE).value;
  const ways = (get('--ways') ?? ALL_WAYS.join(',')).split(',') as Way[];
  if (ways.some((w) => !ALL_WAYS.includes(w))) throw new Error(`--ways: known ways are ${ALL_WAYS.join(', ')}`);
  if (!ways.includes('direct')) ways.unshift('direct');
  const kinds = (get('--kinds') ?? ALL_KINDS.join(',')).split(',') as StreamKind[];
  if (kinds.some((k) => !ALL_KINDS.includes(k))) throw new Error(`--kinds: known kinds are ${ALL_KINDS.join(', ')}`);
  return {
    rounds: Number(get('--rounds') ?? 3),
    seconds: Number(get('--seconds') ?? 4),
    concurrency: (get('--concurrency') ?? '1,4').split(',').map(Number),
    kinds,
    ways,
    mib: Number(get('--mb') ?? 32),
    blobMib: Number(get('--blob-mb') ?? 8),
    storages: Number(get('--storages') ?? 1),
    keep: argv.includes('--keep'),
  };
}

interface Pids {
  node: number;
  serving: number | undefined;
  routers: number[];
}

function cpuOf(pids: Pids): { node: number; serving: number; routers: number; machine: ReturnType<typeof machineTicks> } {
  return {
    node: cpuMicros(pids.node),
    serving: pids.serving === undefined ? 0 : cpuMicros(pids.serving),
    routers: pids.routers.reduce((sum, pid) => sum + cpuMicros(pid), 0),
    machine: machineTicks(),
  };
}

async function measure(job: StreamJob, pids: Pids): Promise<Omit<Sample, 'kind' | 'way' | 'concurrency' | 'round'>> {
  const client = spawnSibling('stream-client-main', [JSON.stringify(job)]);
  await jsonLine(client, (e) => e['phase'] === 'measuring');
  const before = cpuOf(pids);
  const result = await jsonLine<StreamResult>(client, (e) => e['phase'] === 'done');
  const after = cpuOf(pids);
  await stopChild(client);
  const mb = Math.max(result.bytes / 1e6, 1e-9);
  const busyCores = ((after.machine.busy - before.machine.busy) / (after.machine.total - before.machine.total)) * os.cpus().length;
  const ours = (after.node - before.node + after.routers - before.routers + result.cpuUs) / 1e6 / result.seconds;
  return {
    result,
    routerUsPerMb: (after.serving - before.serving) / mb,
    routersUsPerMb: (after.routers - before.routers) / mb,
    nodeUsPerMb: (after.node - before.node) / mb,
    otherCores: Math.max(0, busyCores - ours),
  };
}

function ratioOf(samples: Sample[], kind: StreamKind, way: Way, concurrency: number): number {
  const mine = samples.filter((s) => s.kind === kind && s.way === way && s.concurrency === concurrency);
  return median(
    mine.map((s) => {
      const direct = samples.find((d) => d.kind === kind && d.way === 'direct' && d.concurrency === concurrency && d.round === s.round);
      return direct === undefined ? Number.NaN : s.result.mbPerSec / direct.result.mbPerSec;
    }),
  );
}

function report(samples: Sample[], options: Options, notes: string[]): void {
  for (const note of notes) console.log(note);
  for (const kind of options.kinds) {
    for (const concurrency of options.concurrency) {
      console.log(`\n${kind}, ${concurrency} stream(s) in flight (${options.rounds} rounds of ${options.seconds} s; medians; ratio = MB/s over direct's in the same round)`);
      console.log(['way', 'MB/s', 'msgs/s', 'ratio', 'p50 ms/call', 'p99 ms/call', 'serving router CPU µs/MB', 'all routers µs/MB', 'node µs/MB', 'client µs/MB', 'other cores', 'errors'].join(' | '));
      for (const way of options.ways) {
        const mine = samples.filter((s) => s.kind === kind && s.way === way && s.concurrency === concurrency);
        const m = (pick: (s: Sample) => number): number => median(mine.map(pick));
        const errors = mine.reduce((sum, s) => sum + s.result.errors, 0);
        const firstError = mine.find((s) => s.result.firstError !== undefined)?.result.firstError;
        console.log([
          way,
          fixed(m((s) => s.result.mbPerSec), 1),
          fixed(m((s) => s.result.messagesPerSec)),
          fixed(ratioOf(samples, kind, way, concurrency), 2),
          fixed(m((s) => s.result.p50Ms), 1),
          fixed(m((s) => s.result.p99Ms), 1),
          way === 'direct' ? '-' : fixed(m((s) => s.routerUsPerMb)),
          way === 'direct' ? '-' : fixed(m((s) => s.routersUsPerMb)),
          fixed(m((s) => s.nodeUsPerMb)),
          fixed(m((s) => s.result.cpuUs / Math.max(s.result.bytes / 1e6, 1e-9))),
          fixed(m((s) => s.otherCores), 2),
          `${errors}${firstError === undefined ? '' : ` (${firstError})`}`,
        ].join(' | '));
      }
    }
  }
  console.log('\ntargets: server streaming (blob) >= 0.90 of direct, bidi (upload-pack) >= 0.75');
  for (const kind of options.kinds) {
    for (const way of options.ways.filter((w) => w !== 'direct')) {
      const verdicts = options.concurrency.map((c) => {
        const ratio = ratioOf(samples, kind, way, c);
        return `c=${c}: ${fixed(ratio, 2)} ${ratio >= TARGET_RATIO[kind] ? 'met' : 'not met'}`;
      });
      console.log(`  ${kind} via ${way}: ${verdicts.join('; ')}`);
    }
  }
  console.log(`\n${JSON.stringify({ bench: 'router-streaming', options, samples })}`);
}

function jobFor(kind: StreamKind, way: Way, concurrency: number, address: string, repo: ClusterRepository, virtualStorage: string, token: string, options: Options): StreamJob {
  const direct = way === 'direct';
  return {
    kind,
    target: address,
    storage: direct ? repo.metadata.primary : virtualStorage,
    relativePath: direct ? repo.metadata.replica_path : RELATIVE_PATH,
    token,
    oid: kind === 'blob' ? repo.blobOid : repo.head,
    concurrency,
    warmupMs: 1_000,
    durationMs: options.seconds * 1_000,
  };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  process.stderr.write(`starting a local cluster: 3 routers, ${options.storages} storage node(s), embedded PostgreSQL\n`);
  const bench = await startBenchCluster({ routers: 3, storages: options.storages, keep: options.keep });
  const samples: Sample[] = [];
  const notes: string[] = [];
  try {
    const leader = await leaderIndex(bench);
    const follower = (leader + 1) % bench.cluster.routers.length;
    process.stderr.write(`generating a ${options.mib} MiB repository (${options.blobMib} MiB blobs) on the primary\n`);
    const repo = await generatedClusterRepository(bench, leader, RELATIVE_PATH, { totalBytes: options.mib * MIB, blobBytes: options.blobMib * MIB });
    const routers = bench.cluster.routers;
    const routerPids = routers.map((r) => r.process.pid as number);
    notes.push(`repository: ${fixed(repo.totalBlobBytes / MIB)} MiB of incompressible blobs on ${repo.node.name}; GetBlob reads one ${options.blobMib} MiB blob; upload-pack fetches everything`);
    notes.push(`cluster: 3 routers (leader ${routers[leader]!.name}, follower used ${routers[follower]!.name}), ${options.storages} storage node(s)`);
    for (let round = 0; round < options.rounds; round++) {
      for (const kind of options.kinds) {
        for (const concurrency of options.concurrency) {
          const order = options.ways.map((_, i) => options.ways[(i + round) % options.ways.length] as Way);
          for (const way of order) {
            const serving = way === 'direct' ? undefined : routers[way === 'cluster' ? leader : follower]!;
            const address = serving?.address ?? repo.node.address;
            const job = jobFor(kind, way, concurrency, address, repo, bench.virtualStorage, bench.token, options);
            const measured = await measure(job, { node: repo.node.pid, serving: serving?.process.pid, routers: routerPids });
            samples.push({ kind, way, concurrency, round, ...measured });
            process.stderr.write(`round ${round + 1} ${kind} c=${concurrency} ${way}: ${fixed(measured.result.mbPerSec, 1)} MB/s${measured.result.errors > 0 ? `, ${measured.result.errors} errors (${measured.result.firstError})` : ''}\n`);
          }
        }
      }
    }
    const leaderNow = await leaderIndex(bench);
    if (leaderNow !== leader) notes.push(`* the Raft leader changed during the run (now ${routers[leaderNow]!.name})`);
  } finally {
    await bench.stop();
  }
  report(samples, options, notes);
}

await main();

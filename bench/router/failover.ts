// Benchmark (not a test), issue 4 §8: failover time. A real LocalCluster
// (3 routers, 3 storage nodes, embedded PostgreSQL) with monitor_interval
// 250 ms. Each trial: create a repository through a router, write to it,
// wait until every replica is on the latest generation (the replication
// worker), SIGKILL the primary's storage node, then write through a router
// (a new attempt every 50 ms, attempts overlapping) until the first write is
// acknowledged. The time from the kill to that acknowledgement is the
// failover time. The node is restarted and caught up before the next trial.
// Target: p50 <= 1 s and p99 <= 2 s over 20 trials.
//
// Run: npm run build && node dist/bench/router/failover.js --help
import * as grpc from '@grpc/grpc-js';
import { benchArgs } from './bench-args.js';
import os from 'node:os';
import type { RepositoryMetadataResponse } from '../../src/admin/index.js';
import { gitalyClient } from '../../src/gitaly/index.js';
import { createRepositoryThrough, startBenchCluster, waitFor, type BenchCluster } from './bench-cluster.js';
import { percentile } from './stats.js';
import { fixed } from './stats.js';

const TARGET_P50_MS = 1_000;
const TARGET_P99_MS = 2_000;
const ATTEMPT_EVERY_MS = 50;
const ATTEMPT_TIMEOUT_MS = 5_000;
const USER = { gl_id: 'user-1', name: Buffer.from('Bench'), email: Buffer.from('bench@example.com'), gl_username: 'bench', timezone: 'UTC' };

const USAGE = `usage: node dist/bench/router/failover.js [options]

  --trials N               trials (default 20)
  --monitor-interval-ms N  the routers' health probe interval (default 250)
  --keep                   keep the cluster's folder (logs) after the run
  --help                   this text
`;

interface Options {
  trials: number;
  monitorIntervalMs: number;
  keep: boolean;
}

interface Trial {
  trial: number;
  killed: string;
  newPrimary: string;
  /** SIGKILL → the first write acknowledged through a router. */
  firstWriteMs: number;
  /** SIGKILL → a router's fresh cluster state shows the node unhealthy by quorum. */
  unhealthyMs: number | undefined;
  attempts: number;
  failedAttempts: number;
  /** Failed attempts by gRPC code, with one message each. */
  errors: Record<string, { count: number; example: string }>;
  /** Restart of the node → every replica on the latest generation again. */
  catchUpMs: number;
  /** Refused create or first write before the kill (the previous trial's restart still settling), and the time they took. */
  setupRetries: number;
  setupMs: number;
}

function parseArgs(argv: string[]): Options {
  const args = benchArgs(argv, USAGE);
  const get = (flag: string, fallback: number): number => args.positive(flag, fallback);
  return { trials: get('--trials', 20), monitorIntervalMs: get('--monitor-interval-ms', 250), keep: argv.includes('--keep') };
}

/** UserCommitFiles creating one file on `branch`: a mutator, acknowledged once Raft recorded the generation bump. */
function commitFile(client: grpc.Client, virtualStorage: string, relativePath: string, branch: string, file: string, timeoutMs: number): Promise<void> {
  const fn = (client as unknown as Record<string, (...args: unknown[]) => grpc.ClientWritableStream<unknown>>)['UserCommitFiles']!;
  return new Promise((resolve, reject) => {
    const call = fn.call(client, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (error: grpc.ServiceError | null) => (error ? reject(error) : resolve()));
    const repository = { storage_name: virtualStorage, relative_path: relativePath };
    call.write({ header: { repository, user: USER, branch_name: Buffer.from(branch), commit_message: Buffer.from(`write ${file}`) } });
    call.write({ action: { header: { action: 'CREATE', file_path: Buffer.from(file) } } });
    call.write({ action: { content: Buffer.from(`${file}\n`) } });
    call.end();
  });
}

function metadataOf(bench: BenchCluster, relativePath: string): Promise<RepositoryMetadataResponse> {
  return bench.admins[0]!.repositoryMetadata({ virtual_storage: bench.virtualStorage, relative_path: relativePath, fresh: true });
}

function waitReplicated(bench: BenchCluster, relativePath: string, timeoutMs = 60_000): Promise<RepositoryMetadataResponse> {
  return waitFor(`every replica of ${relativePath} on the latest generation`, async () => {
    const meta = await metadataOf(bench, relativePath);
    return meta.replicas.length === bench.cluster.storages.length && meta.replicas.every((r) => r.generation === meta.generation) ? meta : undefined;
  }, timeoutMs);
}

/** Fires a write every ATTEMPT_EVERY_MS (they overlap) until one is acknowledged; resolves at that acknowledgement. */
async function firstAcknowledgedWrite(client: grpc.Client, bench: BenchCluster, relativePath: string, trial: number, deadlineMs: number): Promise<{ atMs: number; attempts: number; failed: number; errors: Trial['errors'] }> {
  let attempts = 0;
  let failed = 0;
  let lastError: unknown;
  const errors: Trial['errors'] = {};
  return new Promise((resolve, reject) => {
    let done = false;
    const fire = (): void => {
      if (done) return;
      if (performance.now() > deadlineMs) {
        done = true;
        reject(new Error(`no write acknowledged within the deadline (${attempts} attempts; last error: ${String(lastError)})`));
        return;
      }
      const attempt = ++attempts;
      // Each attempt on a branch of its own: overlapping attempts must not race each other for one ref.
      commitFile(client, bench.virtualStorage, relativePath, `attempt-${attempt}`, `after-kill-${trial}-${attempt}.txt`, ATTEMPT_TIMEOUT_MS).then(
        () => {
          if (done) return;
          done = true;
          resolve({ atMs: performance.now(), attempts, failed, errors });
        },
        (error: unknown) => {
          failed++;
          lastError = error;
          const code = grpc.status[(error as grpc.ServiceError).code] ?? 'other';
          const entry = (errors[code] ??= { count: 0, example: (error as grpc.ServiceError).details ?? String(error) });
          entry.count++;
        },
      );
      setTimeout(fire, ATTEMPT_EVERY_MS);
    };
    fire();
  });
}

/** Resolves with the time the killed node shows unhealthy by quorum in a router's fresh state (or undefined at stop). */
function watchUnhealthy(bench: BenchCluster, storage: string, stop: { done: boolean }): Promise<number | undefined> {
  return (async () => {
    while (!stop.done) {
      try {
        const state = await bench.admins[1]!.clusterState(true);
        if (state.storages.find((s) => s.storage === storage)?.healthy === false) return performance.now();
      } catch {
        // a router busy with the failover; ask again
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return undefined;
  })();
}

async function runTrial(bench: BenchCluster, trial: number): Promise<Trial> {
  const routers = bench.cluster.routers;
  const relativePath = `bench/failover-${trial}.git`;
  const writer = gitalyClient('gitaly.OperationService', routers[(trial + 1) % routers.length]!.address, { token: bench.token, channelOptions: { 'grpc.enable_retries': 0 } });
  try {
    // After the previous trial's restart, a router may still refuse calls to the restarted node for a while
    // (its channel backs off reconnecting), though the node is healthy by quorum: retry, and count it.
    const setupStarted = performance.now();
    let setupRetries = 0;
    await waitFor('the repository created', async () => {
      try {
        await createRepositoryThrough(bench, trial % routers.length, relativePath);
        return true;
      } catch (error) {
        if ((error as grpc.ServiceError).code === grpc.status.ALREADY_EXISTS) return true;
        setupRetries++;
        throw error;
      }
    }, 60_000);
    let file = 0;
    await waitFor('a first write', async () => {
      try {
        await commitFile(writer, bench.virtualStorage, relativePath, 'main', `before-${++file}.txt`, 30_000);
        return true;
      } catch (error) {
        setupRetries++;
        throw error;
      }
    }, 60_000);
    const setupMs = performance.now() - setupStarted;
    const before = await waitReplicated(bench, relativePath);
    const primary = bench.cluster.storage(before.primary);
    const stop = { done: false };
    const killedAt = performance.now();
    await primary.process.kill();
    const unhealthy = watchUnhealthy(bench, primary.name, stop);
    const write = await firstAcknowledgedWrite(writer, bench, relativePath, trial, killedAt + 60_000);
    const unhealthyAt = await Promise.race([unhealthy, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 2_000))]);
    stop.done = true;
    const after = await metadataOf(bench, relativePath);
    const restartedAt = performance.now();
    await primary.process.start();
    await waitReplicated(bench, relativePath, 120_000);
    const catchUpMs = performance.now() - restartedAt;
    // The next trial needs every node healthy again.
    await waitFor('every storage healthy by quorum', async () => {
      const state = await bench.admins[0]!.clusterState(true);
      return state.storages.every((s) => s.healthy && s.locally_reachable) ? true : undefined;
    }, 60_000);
    return {
      trial,
      killed: primary.name,
      newPrimary: after.primary,
      firstWriteMs: write.atMs - killedAt,
      unhealthyMs: unhealthyAt === undefined ? undefined : unhealthyAt - killedAt,
      attempts: write.attempts,
      failedAttempts: write.failed,
      errors: write.errors,
      catchUpMs,
      setupRetries,
      setupMs,
    };
  } finally {
    writer.close();
  }
}

function report(trials: Trial[], options: Options, failures: string[]): void {
  const sorted = trials.map((t) => t.firstWriteMs).sort((a, b) => a - b);
  const unhealthy = trials.flatMap((t) => (t.unhealthyMs === undefined ? [] : [t.unhealthyMs])).sort((a, b) => a - b);
  const p50 = percentile(sorted, 50);
  const p99 = percentile(sorted, 99);
  console.log(`\nfailover: ${trials.length} trials (${failures.length} failed), monitor interval ${options.monitorIntervalMs} ms, 3 routers, 3 storage nodes (${os.cpus().length} cores, load ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')})`);
  console.log('| trial | killed | new primary | SIGKILL → unhealthy by quorum ms | SIGKILL → first acknowledged write ms | write attempts (failed) | restart → caught up ms | setup retries (ms) |');
  console.log('|--:|---|---|--:|--:|--:|--:|--:|');
  for (const t of trials) console.log(`| ${t.trial} | ${t.killed} | ${t.newPrimary} | ${t.unhealthyMs === undefined ? 'n/a' : fixed(t.unhealthyMs)} | ${fixed(t.firstWriteMs)} | ${t.attempts} (${t.failedAttempts}) | ${fixed(t.catchUpMs)} | ${t.setupRetries} (${fixed(t.setupMs)}) |`);
  console.log(`\nfirst acknowledged write after SIGKILL: p50 ${fixed(p50)} ms (target <= ${TARGET_P50_MS}: ${p50 <= TARGET_P50_MS ? 'met' : 'NOT met'}), p99 ${fixed(p99)} ms (target <= ${TARGET_P99_MS}: ${p99 <= TARGET_P99_MS ? 'met' : 'NOT met'}); nearest rank, so with 20 trials p99 is the worst`);
  console.log(`node unhealthy by quorum after SIGKILL: p50 ${fixed(percentile(unhealthy, 50))} ms, p99 ${fixed(percentile(unhealthy, 99))} ms`);
  console.log(`all, sorted: ${sorted.map((v) => fixed(v)).join(' ')}`);
  const codes = new Map<string, { count: number; example: string }>();
  for (const t of trials) {
    for (const [code, { count, example }] of Object.entries(t.errors)) {
      const seen = codes.get(code);
      codes.set(code, { count: (seen?.count ?? 0) + count, example: seen?.example ?? example });
    }
  }
  for (const [code, { count, example }] of codes) console.log(`refused write attempts ${code}: ${count} (e.g. "${example}")`);
  for (const failure of failures) console.log(`* failed trial: ${failure}`);
  console.log(`\n${JSON.stringify({ bench: 'router-failover', options, trials, failures })}`);
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  process.stderr.write(`starting a local cluster: 3 routers, 3 storage nodes, embedded PostgreSQL, monitor interval ${options.monitorIntervalMs} ms\n`);
  const bench = await startBenchCluster({ routers: 3, storages: 3, monitorIntervalMs: options.monitorIntervalMs, keep: options.keep });
  const trials: Trial[] = [];
  const failures: string[] = [];
  try {
    for (let trial = 1; trial <= options.trials; trial++) {
      try {
        const result = await runTrial(bench, trial);
        trials.push(result);
        process.stderr.write(`trial ${trial}: killed ${result.killed}, first write after ${fixed(result.firstWriteMs)} ms on ${result.newPrimary}, caught up in ${fixed(result.catchUpMs)} ms\n`);
      } catch (error) {
        failures.push(`trial ${trial}: ${error instanceof Error ? error.message : String(error)}`);
        process.stderr.write(`trial ${trial} failed: ${String(error)}\n`);
        // Bring every node back before going on.
        await Promise.all(bench.cluster.storages.filter((s) => !s.process.running).map((s) => s.process.start()));
      }
    }
  } finally {
    await bench.stop();
  }
  report(trials, options, failures);
}

await main();

// A LocalCluster (embedded PostgreSQL, storage nodes, routers, gateway as
// real processes) for the router benchmarks, and the few calls they make to
// set it up: wait for health, find the Raft leader, create a repository
// through a router and read where it landed.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { AdminClient, type RepositoryMetadataResponse } from '../../src/admin/index.js';
import { gitalyClient } from '../../src/gitaly/index.js';
import { LocalCluster, type LocalClusterOptions } from '../../src/local-cluster/index.js';

export interface BenchCluster {
  readonly cluster: LocalCluster;
  readonly dir: string;
  /** The v2 secret clients, routers and nodes share. */
  readonly token: string;
  readonly virtualStorage: string;
  /** One admin client per router, in the cluster's router order. */
  readonly admins: readonly AdminClient[];
  stop(): Promise<void>;
}

export interface BenchClusterOptions extends Partial<Omit<LocalClusterOptions, 'dir'>> {
  /** Keep the cluster's folder (logs, data) after stop. */
  readonly keep?: boolean;
}

export async function startBenchCluster(options: BenchClusterOptions = {}): Promise<BenchCluster> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-router-cluster-'));
  // mkdtemp makes it 0700; PostgreSQL runs under its own account and must pass through it.
  await chmod(dir, 0o755);
  const { keep, ...clusterOptions } = options;
  // Routers announce readiness at info level, so less than info never starts;
  // at info each router logs one line per call, as upstream does by default.
  const cluster = await LocalCluster.start({ ...clusterOptions, dir });
  const admins = cluster.routers.map((r) => new AdminClient(r.address, { token: cluster.layout.token }));
  const bench: BenchCluster = {
    cluster,
    dir,
    token: cluster.layout.token,
    virtualStorage: cluster.layout.virtualStorage,
    admins,
    stop: async () => {
      for (const admin of admins) admin.close();
      await cluster.stop();
      if (keep !== true) await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    // Healthy by quorum, and reachable by each router's own prober (routing needs both).
    await waitFor('every storage healthy by quorum and reachable from every router', async () => {
      const states = await Promise.all(admins.map((admin) => admin.clusterState(true)));
      const ready = states.every((state) => state.storages.length === cluster.storages.length && state.storages.every((s) => s.healthy && s.locally_reachable));
      return ready ? states : undefined;
    }, 60_000);
  } catch (error) {
    await bench.stop();
    throw error;
  }
  return bench;
}

/** Polls until `probe` returns a value (not undefined), or fails after the deadline naming what it waited for. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? '' : ` (last error: ${String(last)})`}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The index (in cluster.routers) of the router that is the Raft leader, once one is known. */
export async function leaderIndex(bench: BenchCluster): Promise<number> {
  return waitFor('a Raft leader', async () => {
    const status = await bench.admins[0]!.raftStatus();
    const index = bench.cluster.routers.findIndex((r) => r.id === status.leader);
    return index >= 0 ? index : undefined;
  });
}

/** One unary call on a generic client, with a deadline. */
export function unaryCall<T>(client: grpc.Client, method: string, request: object, timeoutMs = 30_000): Promise<T> {
  const fn = (client as unknown as Record<string, (...args: unknown[]) => unknown>)[method];
  if (fn === undefined) throw new Error(`no method ${method}`);
  return new Promise((resolve, reject) => {
    fn.call(client, request, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (error: grpc.ServiceError | null, response: T) =>
      error ? reject(error) : resolve(response),
    );
  });
}

/** Creates a repository through a router and returns where it landed. */
export async function createRepositoryThrough(bench: BenchCluster, routerIndex: number, relativePath: string): Promise<RepositoryMetadataResponse> {
  const router = bench.cluster.routers[routerIndex]!;
  const client = gitalyClient('gitaly.RepositoryService', router.address, { token: bench.token });
  try {
    await unaryCall(client, 'CreateRepository', { repository: { storage_name: bench.virtualStorage, relative_path: relativePath } });
  } finally {
    client.close();
  }
  return bench.admins[routerIndex]!.repositoryMetadata({ virtual_storage: bench.virtualStorage, relative_path: relativePath, fresh: true });
}

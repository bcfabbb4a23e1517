// What a workload gives the client workers: the next operation for a worker
// (through any router), and the final reads once the cluster has recovered.
import type { AdminClient } from '../../../src/admin/index.js';
import type { Prng } from '../../net/index.js';
import type { GitalyCalls, RepositoryRef } from '../gitaly-calls.js';

export const WORKLOAD_NAMES = ['register', 'append', 'cluster-state', 'set-full'] as const;
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

/** How a workload reaches the cluster: per router, Gitaly calls and the admin API, both through the client's proxies. */
export interface ClusterClients {
  readonly virtualStorage: string;
  readonly routers: readonly string[];
  gitaly(router: string): GitalyCalls;
  admin(router: string): AdminClient;
}

export interface PlannedOp {
  readonly f: string;
  readonly key: string;
  readonly value: unknown;
  /** A mutator: a failure leaves its outcome unknown (info), never fail. */
  readonly mutates: boolean;
  /** Runs through `router`; resolves with the ok completion's value. */
  run(router: string): Promise<unknown>;
}

export interface Workload {
  readonly name: WorkloadName;
  /** The next operation; undefined when no key is ready (a fresh one is being made). */
  next(rng: Prng): Promise<PlannedOp | undefined>;
  /** One read per key used, to run on every router after recovery. */
  finalReads(): PlannedOp[];
  /** Keys (repositories) used so far. */
  keys(): string[];
}

export function repositoryOf(clients: ClusterClients, key: string): RepositoryRef {
  return { storage_name: clients.virtualStorage, relative_path: key };
}

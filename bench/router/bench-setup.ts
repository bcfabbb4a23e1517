// What every process of the bench agrees on: the repository, its replica
// path, and the static route the forwarding processes use.
import type { Route, Router } from '../../src/proxy/index.js';

export const BENCH_VIRTUAL_STORAGE = 'virtual';
export const BENCH_RELATIVE_PATH = 'bench/project.git';
/** Where the static router puts the repository: a replica path as a real route would. */
export const BENCH_REPLICA_PATH = '@cluster/repositories/6b/86/1';
export const BENCH_PHYSICAL_STORAGE = 'default';

export type ProxyMode = 'router' | 'bare' | 'h2';

/** Where the repository lives on the node the static route points at. */
export interface PhysicalRepository {
  readonly storage: string;
  readonly replicaPath: string;
}

export const BENCH_PHYSICAL_REPOSITORY: PhysicalRepository = { storage: BENCH_PHYSICAL_STORAGE, replicaPath: BENCH_REPLICA_PATH };

/** One repository on one node, with the rewrite a real route makes. */
export function benchRouter(address: string, token: string, physical: PhysicalRepository = BENCH_PHYSICAL_REPOSITORY): Router {
  const route: Route = { target: { address, token }, rewrite: { storageName: physical.storage, relativePath: physical.replicaPath } };
  return async () => route;
}

// The two storage-node calls replication makes. Requests name the physical
// storage and the replica path: what the node itself stores.
import * as grpc from '@grpc/grpc-js';
import { withGitalyServers } from '../gitaly/index.js';
import { NodeCallError } from './errors.js';
import type { NodeClientPool } from './node-client-pool.js';
import type { NodeAddress } from '../config/index.js';

const REPOSITORY_SERVICE = 'gitaly.RepositoryService';

export interface NodeCallBounds {
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Makes `target`'s replica at `replicaPath` a copy of `source`'s; the target node pulls. */
export async function replicateReplica(
  pool: NodeClientPool,
  target: NodeAddress,
  source: NodeAddress,
  replicaPath: string,
  bounds: NodeCallBounds,
): Promise<void> {
  const metadata = withGitalyServers(new grpc.Metadata(), { [source.storage]: { address: source.address, token: source.token } });
  await pool.unary(
    target,
    REPOSITORY_SERVICE,
    'ReplicateRepository',
    {
      repository: { storage_name: target.storage, relative_path: replicaPath },
      source: { storage_name: source.storage, relative_path: replicaPath },
    },
    { ...bounds, metadata },
  );
}

/** Removes `target`'s replica; true when it was there, false when it was already gone. */
export async function removeReplica(pool: NodeClientPool, target: NodeAddress, replicaPath: string, bounds: NodeCallBounds): Promise<boolean> {
  try {
    await pool.unary(target, REPOSITORY_SERVICE, 'RemoveRepository', { repository: { storage_name: target.storage, relative_path: replicaPath } }, bounds);
    return true;
  } catch (error) {
    if (error instanceof NodeCallError && error.grpcCode === grpc.status.NOT_FOUND) return false;
    throw error;
  }
}

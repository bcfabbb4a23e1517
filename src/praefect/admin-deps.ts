// What the admin handlers need from the router, and the lookups they share.
import { AdminRequestError } from '../admin/index.js';
import type { ClusterAccess, RepositoryView } from '../cluster/index.js';
import type { NodeDirectory } from '../config/index.js';
import { ReplicationQueue, RepositoryStore, type DatabasePool } from '../db/index.js';
import type { HealthProber } from '../health/index.js';
import type { GrpcTransport, RaftDriver } from '../raft/index.js';

export interface AdminServiceDeps {
  readonly access: ClusterAccess;
  readonly driver: RaftDriver;
  readonly prober: HealthProber;
  readonly appliedIndex: () => number;
  /** The configured storage nodes; without them the storage and repository commands answer FAILED_PRECONDITION. */
  readonly nodes?: NodeDirectory;
  /** PostgreSQL: the catalogue and the replication queue. */
  readonly pool?: DatabasePool;
  /** Where AddRaftPeer records a new member's address. */
  readonly transport?: Pick<GrpcTransport, 'setPeer'>;
  /** The raft data_dir: AddRaftPeer also writes the address there (learned-peers.json), so a restart keeps it. */
  readonly raftDataDir?: string;
  /** Reference transactions open on this router; absent: 0 (strong consistency off). */
  readonly transactionsInFlight?: () => number;
  /** The age from which an intent counts as stale (the reconciler's threshold). */
  readonly staleIntentAgeMs?: number;
}
export function configuredNodes(deps: AdminServiceDeps): NodeDirectory {
  if (deps.nodes === undefined) throw new AdminRequestError('FAILED_PRECONDITION', 'this router was started without its storage configuration');
  return deps.nodes;
}
export function requireVirtualStorage(deps: AdminServiceDeps, virtualStorage: string): void {
  const nodes = configuredNodes(deps);
  if (!nodes.has(virtualStorage)) {
    throw new AdminRequestError('INVALID_ARGUMENT', `virtual_storage: unknown virtual storage "${virtualStorage}"; configured: ${nodes.virtualStorages().join(', ')}`);
  }
}
export function requireConfiguredStorage(deps: AdminServiceDeps, virtualStorage: string, storage: string, field: string): void {
  const order = configuredNodes(deps).storages(virtualStorage);
  if (!order.includes(storage)) {
    throw new AdminRequestError('INVALID_ARGUMENT', `${field}: "${storage}" is not a storage of virtual storage "${virtualStorage}"; storages: ${order.join(', ')}`);
  }
}
export function describe(repository: Pick<RepositoryView, 'virtualStorage' | 'relativePath'>): string {
  return `${repository.virtualStorage}/${repository.relativePath}`;
}
export interface RepositoryDeps {
  readonly deps: AdminServiceDeps;
  readonly queue: ReplicationQueue | undefined;
  readonly store: RepositoryStore | undefined;
}

/** How long DialNodes and the replica checks wait for a node by default. */
export const DEFAULT_DIAL_TIMEOUT_MS = 5_000;

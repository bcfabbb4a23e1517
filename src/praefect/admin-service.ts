// praefect.admin.ClusterAdmin on the router: the handlers of every admin RPC,
// each implemented in the admin-*.ts file of its concern.
import * as grpc from '@grpc/grpc-js';
import type { AcceptDatalossRequest, ChangeMembershipRequest, DatalossRequest, RaftStatusRequest, ListUntrackedRepositoriesRequest, RemoveRepositoryRequest, RepositoryMetadataRequest, SetReplicationFactorRequest, TrackRepositoryRequest } from '../admin/index.js';
import { ReplicationQueue, RepositoryStore } from '../db/index.js';
import { removeRepository, trackRepository } from './admin-catalogue.js';
import { clusterStateOf, dialNodes, listStorages, queueStatus } from './admin-cluster-state.js';
import { type AdminServiceDeps, DEFAULT_DIAL_TIMEOUT_MS } from './admin-deps.js';
import { freshen, serverStreaming, unary } from './admin-handlers.js';
import { addRaftPeer, changeMembership, raftStatusOf, transferLeader } from './admin-raft.js';
import { acceptDataloss, datalossOf, repositoryMetadata, setReplicationFactor } from './admin-repositories.js';
import { listUntrackedRepositories } from './admin-untracked.js';

const DEFAULT_TRANSFER_TIMEOUT_MS = 10_000;
export function adminImplementation(deps: AdminServiceDeps): grpc.UntypedServiceImplementation {
  const queue = deps.pool === undefined ? undefined : new ReplicationQueue(deps.pool);
  const store = deps.pool === undefined ? undefined : new RepositoryStore(deps.pool);
  const repositories = { deps, queue, store };
  return {
    RaftStatus: unary((request: RaftStatusRequest) => raftStatusOf(deps, request)),
    ClusterState: unary(async (request: { fresh: boolean }) => clusterStateOf(deps, await freshen(deps.access, request.fresh))),
    RepositoryMetadata: unary((request: RepositoryMetadataRequest) => repositoryMetadata(deps, request)),
    Dataloss: unary((request: DatalossRequest) => datalossOf(deps, request)),
    AcceptDataloss: unary((request: AcceptDatalossRequest) => acceptDataloss(deps, request)),
    SetReplicationFactor: unary((request: SetReplicationFactorRequest) => setReplicationFactor(deps, request)),
    QueueStatus: unary(() => queueStatus(queue)),
    ListStorages: unary(async (request: { virtual_storage: string }) => listStorages(deps, request.virtual_storage)),
    DialNodes: unary((request: { timeout_ms: number }) => dialNodes(deps, request.timeout_ms || DEFAULT_DIAL_TIMEOUT_MS)),
    AddRaftPeer: unary(async (request: { node_id: number; raft_address: string }) => addRaftPeer(deps, request)),
    ChangeMembership: unary((request: ChangeMembershipRequest) => changeMembership(deps, request)),
    TransferLeader: unary((request: { to: number; timeout_ms: number }) => transferLeader(deps, request.to, request.timeout_ms || DEFAULT_TRANSFER_TIMEOUT_MS)),
    TrackRepository: unary((request: TrackRepositoryRequest) => trackRepository(repositories, request)),
    RemoveRepository: unary((request: RemoveRepositoryRequest) => removeRepository(repositories, request)),
    ListUntrackedRepositories: serverStreaming((request: ListUntrackedRepositoriesRequest, send, signal) => listUntrackedRepositories(repositories, request, send, signal)),
  };
}

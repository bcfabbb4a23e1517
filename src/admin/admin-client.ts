import * as grpc from '@grpc/grpc-js';
import { v2TokenMetadata } from '../auth/index.js';
import { clusterAdminService } from './admin-proto.js';
import type {
  AcceptDatalossRequest,
  AcceptDatalossResponse,
  ChangeMembershipRequest,
  ChangeMembershipResponse,
  ClusterStateResponse,
  DatalossRequest,
  DatalossResponse,
  DialNodesResponse,
  ListUntrackedRepositoriesRequest,
  ListUntrackedRepositoriesResponse,
  ListStoragesResponse,
  QueueStatusResponse,
  RaftStatusRequest,
  RaftStatusResponse,
  RemoveRepositoryRequest,
  RemoveRepositoryResponse,
  RepositoryMetadataRequest,
  RepositoryMetadataResponse,
  SetReplicationFactorRequest,
  SetReplicationFactorResponse,
  TrackRepositoryRequest,
  TrackRepositoryResponse,
  TransferLeaderResponse,
} from './admin-types.js';

export interface AdminClientOptions {
  /** The client v2 token secret of the router; absent sends none. */
  readonly token?: string;
  readonly timeoutMs?: number;
  /** For a router's tls_listen_addr; default plaintext. */
  readonly credentials?: grpc.ChannelCredentials;
}

/** A promise client of praefect.admin.ClusterAdmin on one router. */
export class AdminClient {
  private readonly client: grpc.Client;

  constructor(
    readonly address: string,
    private readonly options: AdminClientOptions = {},
  ) {
    const Service = clusterAdminService();
    this.client = new Service(address, options.credentials ?? grpc.credentials.createInsecure());
  }

  raftStatus(request: RaftStatusRequest = {}): Promise<RaftStatusResponse> {
    return this.call('RaftStatus', request);
  }

  clusterState(fresh = false): Promise<ClusterStateResponse> {
    return this.call('ClusterState', { fresh });
  }

  repositoryMetadata(request: RepositoryMetadataRequest): Promise<RepositoryMetadataResponse> {
    return this.call('RepositoryMetadata', request);
  }

  dataloss(request: DatalossRequest): Promise<DatalossResponse> {
    return this.call('Dataloss', request);
  }

  acceptDataloss(request: AcceptDatalossRequest): Promise<AcceptDatalossResponse> {
    return this.call('AcceptDataloss', request);
  }

  setReplicationFactor(request: SetReplicationFactorRequest): Promise<SetReplicationFactorResponse> {
    return this.call('SetReplicationFactor', request);
  }

  queueStatus(): Promise<QueueStatusResponse> {
    return this.call('QueueStatus', {});
  }

  listStorages(virtualStorage = ''): Promise<ListStoragesResponse> {
    return this.call('ListStorages', { virtual_storage: virtualStorage });
  }

  dialNodes(timeoutMs = 0): Promise<DialNodesResponse> {
    return this.call('DialNodes', { timeout_ms: timeoutMs });
  }

  addRaftPeer(nodeId: number, raftAddress: string): Promise<object> {
    return this.call('AddRaftPeer', { node_id: nodeId, raft_address: raftAddress });
  }

  changeMembership(request: ChangeMembershipRequest): Promise<ChangeMembershipResponse> {
    return this.call('ChangeMembership', request);
  }

  transferLeader(to: number, timeoutMs = 0): Promise<TransferLeaderResponse> {
    return this.call('TransferLeader', { to, timeout_ms: timeoutMs });
  }

  trackRepository(request: TrackRepositoryRequest): Promise<TrackRepositoryResponse> {
    return this.call('TrackRepository', request);
  }

  removeRepository(request: RemoveRepositoryRequest): Promise<RemoveRepositoryResponse> {
    return this.call('RemoveRepository', request);
  }

  /**
   * The untracked repositories in batches, as the router finds them. The
   * whole walk must end within timeoutMs (default: the client's timeout).
   * Leaving the loop early cancels the call.
   */
  async *listUntrackedRepositories(request: ListUntrackedRepositoriesRequest, timeoutMs = this.options.timeoutMs ?? 10_000): AsyncGenerator<ListUntrackedRepositoriesResponse> {
    const fn = (this.client as unknown as Record<string, (...args: unknown[]) => grpc.ClientReadableStream<ListUntrackedRepositoriesResponse>>)['ListUntrackedRepositories']!.bind(this.client);
    const stream = fn(request, this.metadata(), { deadline: Date.now() + timeoutMs });
    try {
      for await (const batch of stream) yield batch as ListUntrackedRepositoriesResponse;
    } finally {
      stream.cancel();
    }
  }

  close(): void {
    this.client.close();
  }

  private metadata(): grpc.Metadata {
    const token = this.options.token;
    return token === undefined || token === '' ? new grpc.Metadata() : v2TokenMetadata(token, Math.floor(Date.now() / 1000));
  }

  private call<T>(method: string, request: object): Promise<T> {
    const metadata = this.metadata();
    const fn = (this.client as unknown as Record<string, (...args: unknown[]) => unknown>)[method]!.bind(this.client);
    return new Promise((resolve, reject) => {
      fn(request, metadata, { deadline: Date.now() + (this.options.timeoutMs ?? 10_000) }, (error: grpc.ServiceError | null, response: T) =>
        error ? reject(error) : resolve(response),
      );
    });
  }
}

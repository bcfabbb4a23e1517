import * as grpc from '@grpc/grpc-js';
import { v2TokenMetadata } from '../auth/index.js';
import { clusterAdminService } from './admin-proto.js';
import type { ClusterStateResponse, RaftStatusResponse, RepositoryMetadataRequest, RepositoryMetadataResponse } from './admin-types.js';

export interface AdminClientOptions {
  /** The client v2 token secret of the router; absent sends none. */
  readonly token?: string;
  readonly timeoutMs?: number;
}

/** A promise client of praefect.admin.ClusterAdmin on one router. */
export class AdminClient {
  private readonly client: grpc.Client;

  constructor(
    readonly address: string,
    private readonly options: AdminClientOptions = {},
  ) {
    const Service = clusterAdminService();
    this.client = new Service(address, grpc.credentials.createInsecure());
  }

  raftStatus(): Promise<RaftStatusResponse> {
    return this.call('RaftStatus', {});
  }

  clusterState(fresh = false): Promise<ClusterStateResponse> {
    return this.call('ClusterState', { fresh });
  }

  repositoryMetadata(request: RepositoryMetadataRequest): Promise<RepositoryMetadataResponse> {
    return this.call('RepositoryMetadata', request);
  }

  close(): void {
    this.client.close();
  }

  private call<T>(method: string, request: object): Promise<T> {
    const token = this.options.token;
    const metadata = token === undefined || token === '' ? new grpc.Metadata() : v2TokenMetadata(token, Math.floor(Date.now() / 1000));
    const fn = (this.client as unknown as Record<string, (...args: unknown[]) => unknown>)[method]!.bind(this.client);
    return new Promise((resolve, reject) => {
      fn(request, metadata, { deadline: Date.now() + (this.options.timeoutMs ?? 10_000) }, (error: grpc.ServiceError | null, response: T) =>
        error ? reject(error) : resolve(response),
      );
    });
  }
}

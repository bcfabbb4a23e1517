import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import path from 'node:path';
import { findProjectRoot } from '../protocol/index.js';

export interface KvStatus {
  id: number;
  term: number;
  leader: number;
  role: string;
  commit: number;
  applied: number;
  last_index: number;
  voters: number[];
  learners: number[];
}

let definition: grpc.GrpcObject | undefined;

function kvPackage(): grpc.GrpcObject {
  definition ??= grpc.loadPackageDefinition(
    protoLoader.loadSync(path.join(findProjectRoot(), 'proto', 'praefect', 'kv.proto'), {
      longs: Number,
      defaults: true,
      keepCase: true,
    }),
  );
  return definition;
}

type ClientConstructor = new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client;

function raftKvService(): grpc.ServiceClientConstructor {
  const pkg = (kvPackage()['praefect'] as grpc.GrpcObject)['kv'] as grpc.GrpcObject;
  return pkg['RaftKv'] as grpc.ServiceClientConstructor;
}

export function raftKvServiceDefinition(): grpc.ServiceDefinition {
  return raftKvService().service;
}

/** A promise-based client for one member's RaftKv service. */
export class KvClient {
  private readonly client: grpc.Client;

  constructor(readonly address: string) {
    const Client = raftKvService() as unknown as ClientConstructor;
    this.client = new Client(address, grpc.credentials.createInsecure());
  }

  private call<T>(method: string, request: object, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const fn = (this.client as unknown as Record<string, grpc.requestCallback<T> & ((...args: unknown[]) => void)>)[method]!;
      fn.call(this.client, request, { deadline: Date.now() + timeoutMs }, (error: grpc.ServiceError | null, response?: T) =>
        error ? reject(error) : resolve(response as T),
      );
    });
  }

  put(key: string, value: string, timeoutMs = 5_000): Promise<{ had_previous: boolean; previous: string }> {
    return this.call('Put', { key, value }, timeoutMs);
  }

  get(key: string, timeoutMs = 5_000, staleOk = false): Promise<{ found: boolean; value: string; applied_index: number }> {
    return this.call('Get', { key, stale_ok: staleOk }, timeoutMs);
  }

  status(timeoutMs = 2_000): Promise<KvStatus> {
    return this.call('Status', {}, timeoutMs);
  }

  close(): void {
    this.client.close();
  }
}

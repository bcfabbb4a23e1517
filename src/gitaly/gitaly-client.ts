// Clients for other storage nodes (replication sources) and for tests,
// built from our protocol definitions. Calls carry a fresh v2 token when a
// secret is given.
import * as grpc from '@grpc/grpc-js';
import { v2TokenInterceptor } from '../auth/index.js';
import { requireService } from '../protocol/index.js';

export interface ClientOptions {
  token?: string;
  maxMessageBytes?: number;
  channelOptions?: grpc.ClientOptions;
}

/** A generic grpc-js client for one service, e.g. "gitaly.SSHService". */
export function gitalyClient(service: string, address: string, options: ClientOptions = {}): grpc.Client {
  const Constructor = grpc.makeGenericClientConstructor(requireService(service), service);
  const channelOptions: grpc.ClientOptions = { ...options.channelOptions };
  if (options.token !== undefined && options.token.length > 0) channelOptions.interceptors = [v2TokenInterceptor(options.token)];
  if (options.maxMessageBytes !== undefined) {
    channelOptions['grpc.max_receive_message_length'] = options.maxMessageBytes;
    channelOptions['grpc.max_send_message_length'] = options.maxMessageBytes;
  }
  return new Constructor(grpcTarget(address), grpc.credentials.createInsecure(), channelOptions);
}

/** Gitaly addresses ("tcp://host:port", "unix:/path") as grpc-js targets. */
export function grpcTarget(address: string): string {
  if (address.startsWith('tcp://')) return address.slice('tcp://'.length);
  if (address.startsWith('unix://')) return `unix:${address.slice('unix://'.length)}`;
  return address;
}

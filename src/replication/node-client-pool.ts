// One grpc-js client per (node address, token, service), shared by every job
// toward that node: a channel holds the HTTP/2 connection, and opening one per
// job would cost a handshake each time.
import * as grpc from '@grpc/grpc-js';
import { v2TokenInterceptor } from '../auth/index.js';
import { dialTarget } from '../health/index.js';
import { requireService } from '../protocol/index.js';
import { NodeCallError } from './errors.js';
import type { NodeAddress } from '../config/index.js';

export interface NodeClientPoolOptions {
  /** Bound on message size both ways. Default 16 MiB. */
  maxMessageBytes?: number;
  /** TLS credentials for tls:// nodes. Default: the system's roots. */
  tlsCredentials?: grpc.ChannelCredentials;
  /** Bound on the number of channels kept (typed error beyond). Default 1024. */
  maxClients?: number;
}

export interface UnaryCallOptions {
  timeoutMs: number;
  metadata?: grpc.Metadata;
  /** Cancels the call (the worker aborts jobs whose claim it lost, or on stop). */
  signal?: AbortSignal;
}

type UnaryMethod = (
  request: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response: unknown) => void,
) => grpc.ClientUnaryCall;

export class NodeClientPool {
  private readonly clients = new Map<string, grpc.Client>();
  private readonly maxMessageBytes: number;
  private readonly maxClients: number;
  private closed = false;

  constructor(private readonly options: NodeClientPoolOptions = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? 16 * 1024 * 1024;
    this.maxClients = options.maxClients ?? 1024;
  }

  /** One unary call; rejects with NodeCallError carrying the gRPC status. */
  unary<T>(node: NodeAddress, service: string, method: string, request: unknown, options: UnaryCallOptions): Promise<T> {
    const client = this.client(node, service);
    const fn = (client as unknown as Record<string, UnaryMethod | undefined>)[method];
    if (fn === undefined) return Promise.reject(new NodeCallError(`${service}/${method}`, node.address, undefined, 'no such method'));
    return new Promise<T>((resolve, reject) => {
      if (options.signal?.aborted === true) {
        reject(new NodeCallError(`${service}/${method}`, node.address, grpc.status.CANCELLED, 'cancelled before it started'));
        return;
      }
      const cancel = (): void => call.cancel();
      const call = fn.call(client, request, options.metadata ?? new grpc.Metadata(), { deadline: Date.now() + options.timeoutMs }, (error, response) => {
        options.signal?.removeEventListener('abort', cancel);
        if (error === null) resolve(response as T);
        else reject(new NodeCallError(`${service}/${method}`, node.address, error.code, `${grpc.status[error.code] ?? error.code}: ${error.details}`, { cause: error }));
      });
      options.signal?.addEventListener('abort', cancel, { once: true });
    });
  }

  close(): void {
    this.closed = true;
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }

  private client(node: NodeAddress, service: string): grpc.Client {
    if (this.closed) throw new NodeCallError(service, node.address, grpc.status.CANCELLED, 'the client pool is closed');
    const key = `${service}\n${node.address}\n${node.token}`;
    const existing = this.clients.get(key);
    if (existing !== undefined) return existing;
    if (this.clients.size >= this.maxClients) {
      throw new NodeCallError(service, node.address, grpc.status.RESOURCE_EXHAUSTED, `more than ${this.maxClients} node clients`);
    }
    const Constructor = grpc.makeGenericClientConstructor(requireService(service), service);
    const { target, tls } = dialTarget(node.address);
    const credentials = tls ? (this.options.tlsCredentials ?? grpc.credentials.createSsl()) : grpc.credentials.createInsecure();
    const channelOptions: grpc.ClientOptions = {
      'grpc.max_receive_message_length': this.maxMessageBytes,
      'grpc.max_send_message_length': this.maxMessageBytes,
      // A job is one attempt; the queue's backoff is the retry.
      'grpc.enable_retries': 0,
    };
    if (node.token.length > 0) channelOptions.interceptors = [v2TokenInterceptor(node.token)];
    const client = new Constructor(target, credentials, channelOptions);
    this.clients.set(key, client);
    return client;
  }
}

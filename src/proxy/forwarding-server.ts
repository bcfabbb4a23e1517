// The router's gRPC front: every method of the registry, registered as a
// bidi handler with identity (de)serializers (the wire format is the same
// for all four kinds, so one handler shape serves them all). Repository and
// storage scoped calls are forwarded; server-scoped ones answered here.
import * as grpc from '@grpc/grpc-js';
import { gitalyProtocol, UnclassifiedMethodError, type GitalyProtocol, type MethodInfo } from '../protocol/index.js';
import { ChannelPool } from './channel-pool.js';
import { FirstMessageCodec } from './first-message.js';
import { forwardCall, type ForwardContext } from './forward-call.js';
import { DEFAULT_FAN_OUT_TIMEOUT_MS, resolveLimits, type ForwarderLimits, type ForwarderOptions } from './forwarder-options.js';
import { InFlightLimiter } from './inflight-limiter.js';
import { serverScopedHandler, type ServerScopedContext } from './server-scoped.js';
import { InternalTokens } from './upstream-metadata.js';

export interface Forwarder {
  readonly limits: ForwarderLimits;
  readonly limiter: InFlightLimiter;
  /** Options a grpc.Server needs so message bounds hold on the client side too. */
  readonly serverOptions: grpc.ServerOptions;
  /** Adds every method of the registry to the server. */
  register(server: grpc.Server): void;
  /** Closes the channels to the storage nodes. */
  close(): void;
}

const identity = (bytes: Buffer): Buffer => bytes;

export function createForwarder(options: ForwarderOptions): Forwarder {
  const protocol = options.protocol ?? gitalyProtocol();
  // Startup fails, rather than a call later, when a method cannot be routed.
  if (protocol.registry.problems.length > 0) throw new UnclassifiedMethodError(protocol.registry.problems);
  const limits = resolveLimits(options.limits);
  const limiter = new InFlightLimiter({ maxCalls: limits.maxCalls, maxCallsPerRepository: limits.maxCallsPerRepository });
  const pool = new ChannelPool({
    maxMessageBytes: limits.maxMessageBytes,
    ...(options.channelOptions !== undefined ? { channelOptions: options.channelOptions } : {}),
    ...(options.channelCredentials !== undefined ? { credentials: options.channelCredentials } : {}),
  });
  const tokens = new InternalTokens();
  const report = options.onError ?? (() => undefined);
  const forward: ForwardContext = {
    codec: new FirstMessageCodec(protocol.root),
    router: options.router,
    limiter,
    pool,
    tokens,
    report,
    ...(options.auth !== undefined ? { auth: options.auth } : {}),
  };
  const scoped: ServerScopedContext = {
    pool,
    tokens,
    root: protocol.root,
    nodes: options.nodes ?? (async () => []),
    serverVersion: options.serverVersion ?? '',
    fanOutTimeoutMs: options.fanOutTimeoutMs ?? DEFAULT_FAN_OUT_TIMEOUT_MS,
    ...(options.auth !== undefined ? { auth: options.auth } : {}),
  };
  return {
    limits,
    limiter,
    serverOptions: {
      'grpc.max_receive_message_length': limits.maxMessageBytes,
      'grpc.max_send_message_length': limits.maxMessageBytes,
      'grpc.enable_channelz': 0,
    },
    register: (server) => registerAll(server, protocol, forward, scoped),
    close: () => pool.close(),
  };
}

function registerAll(server: grpc.Server, protocol: GitalyProtocol, forward: ForwardContext, scoped: ServerScopedContext): void {
  for (const [service, methods] of byService(protocol.registry.all())) {
    const definition: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const method of methods) {
      definition[method.method] = bidiDefinition(method);
      implementation[method.method] = (method.scope === 'server'
        ? serverScopedHandler(scoped, method)
        : (call: grpc.ServerDuplexStream<Buffer, Buffer>) => forwardCall(forward, method, call)) as grpc.UntypedHandleCall;
    }
    try {
      server.addService(definition, implementation);
    } catch (error) {
      throw new Error(`cannot register ${service}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
}

function bidiDefinition(method: MethodInfo): grpc.MethodDefinition<Buffer, Buffer> {
  return {
    path: method.path,
    requestStream: true,
    responseStream: true,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
    originalName: method.method,
  };
}

function byService(methods: readonly MethodInfo[]): Map<string, MethodInfo[]> {
  const grouped = new Map<string, MethodInfo[]>();
  for (const method of methods) {
    const list = grouped.get(method.service) ?? [];
    list.push(method);
    grouped.set(method.service, list);
  }
  return grouped;
}

export interface RunningForwarder {
  /** host:port with the bound port. */
  address: string;
  port: number;
  forwarder: Forwarder;
  server: grpc.Server;
  /** Stops taking calls, waits up to graceMs for those in flight, then cuts them off. */
  close(graceMs?: number): Promise<void>;
}

/** A grpc.Server of its own, listening on host:port (port 0 picks one). */
export async function startForwardingServer(options: ForwarderOptions, listen = '127.0.0.1:0', credentials = grpc.ServerCredentials.createInsecure()): Promise<RunningForwarder> {
  const forwarder = createForwarder(options);
  const server = new grpc.Server(forwarder.serverOptions);
  forwarder.register(server);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(listen, credentials, (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  const host = listen.slice(0, listen.lastIndexOf(':'));
  return { address: `${host}:${port}`, port, forwarder, server, close: (graceMs = 5_000) => shutdown(server, forwarder, graceMs) };
}

async function shutdown(server: grpc.Server, forwarder: Forwarder, graceMs: number): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
  forwarder.close();
}

// The router's gRPC front on grpc-js: every method of the registry,
// registered as a bidi handler with identity (de)serializers (the wire
// format is the same for all four kinds, so one handler shape serves them
// all). Repository and storage scoped calls are forwarded; server-scoped
// ones answered here.
import * as grpc from '@grpc/grpc-js';
import type { MethodInfo } from '../protocol/index.js';
import { forwardCall, type ForwardContext } from './forward-call.js';
import { forwarderContext, type ForwarderContext } from './forwarder-context.js';
import type { ForwarderLimits, ForwarderOptions } from './forwarder-options.js';
import type { InFlightLimiter } from './inflight-limiter.js';
import { serverScopedHandler } from './server-scoped-call.js';

export interface Forwarder {
  readonly limits: ForwarderLimits;
  readonly limiter: InFlightLimiter;
  /** Options a grpc.Server needs so the message bound holds on its side too. */
  readonly serverOptions: grpc.ServerOptions;
  /** Adds every method of the registry to the server. */
  register(server: grpc.Server): void;
  /** Closes the channels to the storage nodes. */
  close(): void;
}

/** A listening forwarder, whatever its transport. */
export interface ForwardingListener {
  /** host:port with the bound port. */
  address: string;
  port: number;
  limiter: InFlightLimiter;
  /** Stops taking calls, waits up to graceMs for those in flight, then cuts them off. */
  close(graceMs?: number): Promise<void>;
}

export interface RunningForwarder extends ForwardingListener {
  forwarder: Forwarder;
  server: grpc.Server;
}

const identity = (bytes: Buffer): Buffer => bytes;

export function createForwarder(options: ForwarderOptions): Forwarder {
  const ctx = forwarderContext(options);
  const forward: ForwardContext = { ...ctx, ...(options.auth !== undefined ? { auth: options.auth } : {}) };
  return {
    limits: ctx.limits,
    limiter: ctx.limiter,
    serverOptions: {
      'grpc.max_receive_message_length': ctx.limits.maxMessageBytes,
      'grpc.max_send_message_length': ctx.limits.maxMessageBytes,
      'grpc.enable_channelz': 0,
    },
    register: (server) => registerAll(server, ctx, forward),
    close: () => ctx.pool.close(),
  };
}

function registerAll(server: grpc.Server, ctx: ForwarderContext, forward: ForwardContext): void {
  for (const methods of byService(ctx.protocol.registry.all()).values()) {
    const definition: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const method of methods) {
      definition[method.method] = bidiDefinition(method);
      implementation[method.method] = (method.scope === 'server'
        ? serverScopedHandler(ctx.scoped, method, forward.auth)
        : (call: grpc.ServerDuplexStream<Buffer, Buffer>) => forwardCall(forward, method, call)) as grpc.UntypedHandleCall;
    }
    server.addService(definition, implementation);
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

export function byService(methods: readonly MethodInfo[]): Map<string, MethodInfo[]> {
  const grouped = new Map<string, MethodInfo[]>();
  for (const method of methods) grouped.set(method.service, [...(grouped.get(method.service) ?? []), method]);
  return grouped;
}

/** A grpc.Server of its own, listening on host:port (port 0 picks one). */
export async function startForwardingServer(options: ForwarderOptions, listen = '127.0.0.1:0', credentials = grpc.ServerCredentials.createInsecure()): Promise<RunningForwarder> {
  const forwarder = createForwarder(options);
  const server = new grpc.Server(forwarder.serverOptions);
  forwarder.register(server);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(listen, credentials, (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  return {
    address: `${listen.slice(0, listen.lastIndexOf(':'))}:${port}`,
    port,
    forwarder,
    server,
    limiter: forwarder.limiter,
    close: (graceMs = 5_000) => shutdown(server, forwarder, graceMs),
  };
}

async function shutdown(server: grpc.Server, forwarder: Forwarder, graceMs: number): Promise<void> {
  await stopServer(server, graceMs);
  forwarder.close();
}

/** Stops taking calls and waits up to graceMs for those in flight, then cuts them off. */
export function stopServer(server: grpc.Server, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

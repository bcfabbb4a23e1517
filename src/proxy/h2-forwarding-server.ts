// The router's front on the frame-level transport: a node:http2 server that
// speaks gRPC's wire format itself. It serves the same registry and the same
// refusals as the grpc-js front, but skips grpc-js on both hops: it costs
// less CPU per call (see bench/README.md, bench/router). Nodes are reached
// over cleartext HTTP/2 only.
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { authenticateMetadata, type ServerAuthOptions } from '../auth/index.js';
import type { MethodInfo } from '../protocol/index.js';
import { statusOfError } from './error-status.js';
import { forwarderContext, type ForwarderContext } from './forwarder-context.js';
import type { ForwarderOptions } from './forwarder-options.js';
import type { ForwardingListener } from './forwarding-server.js';
import { FirstMessageCollector, frameMessage } from './grpc-framing.js';
import { deadlineFromHeaders, statusTrailers, trailersOnly } from './grpc-headers.js';
import { H2ForwardedCall, type H2ForwardContext } from './h2-forward-call.js';
import { H2SessionPool } from './h2-session-pool.js';
import { answerServerScoped, answersServerScoped, needsAuthentication } from './server-scoped.js';

export async function startH2ForwardingServer(options: ForwarderOptions, listen = '127.0.0.1:0'): Promise<ForwardingListener> {
  const ctx = forwarderContext(options);
  const sessions = new H2SessionPool();
  const forward: H2ForwardContext = { ...ctx, sessions, maxMessageBytes: ctx.limits.maxMessageBytes, ...(options.auth !== undefined ? { auth: options.auth } : {}) };
  const server = http2.createServer({ settings: { enablePush: false } });
  const open = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    open.add(session);
    session.on('close', () => open.delete(session));
    session.on('error', () => undefined);
  });
  server.on('stream', (stream, headers) => dispatch(forward, ctx, stream, headers));
  const { host, port } = splitListen(listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address();
  const boundPort = typeof bound === 'object' && bound !== null ? bound.port : port;
  return {
    address: `${host}:${boundPort}`,
    port: boundPort,
    limiter: ctx.limiter,
    close: (graceMs = 5_000) => shutdown(server, open, graceMs, () => {
      sessions.close();
      ctx.pool.close();
    }),
  };
}

function dispatch(forward: H2ForwardContext, ctx: ForwarderContext, stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
  stream.on('error', () => undefined);
  const contentType = headers['content-type'];
  if (typeof contentType !== 'string' || !contentType.startsWith('application/grpc')) {
    stream.respond({ ':status': 415 }, { endStream: true });
    return;
  }
  const path = String(headers[':path']);
  const method = ctx.protocol.registry.get(path);
  // grpc-js's words for an unregistered path, so clients see one refusal either way.
  if (method === undefined) return respondStatus(stream, grpc.status.UNIMPLEMENTED, `The server does not implement the method ${path}`);
  let deadlineMs: number;
  try {
    deadlineMs = deadlineFromHeaders(headers, Date.now());
  } catch (error) {
    return respondStatus(stream, statusOfError(error).code, statusOfError(error).details);
  }
  if (method.scope === 'server') return answerOverH2(ctx, method, stream, headers, deadlineMs, forward.auth);
  new H2ForwardedCall(forward, method, stream, headers, deadlineMs).start();
}

function answerOverH2(
  ctx: ForwarderContext,
  method: MethodInfo,
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  deadlineMs: number,
  auth: ServerAuthOptions | undefined,
): void {
  const authError = auth === undefined || !needsAuthentication(method) ? null : authenticateMetadata(grpc.Metadata.fromHttp2Headers(headers), auth);
  if (authError !== null) return respondStatus(stream, authError.code ?? grpc.status.UNAUTHENTICATED, authError.details ?? 'unauthenticated');
  if (!answersServerScoped(ctx.scoped, method)) return respondStatus(stream, grpc.status.UNIMPLEMENTED, `the router does not answer ${method.path}`);
  const collector = new FirstMessageCollector(ctx.limits.maxMessageBytes);
  let request: Uint8Array = new Uint8Array(0);
  stream.on('data', (chunk: Buffer) => {
    try {
      request = collector.push(chunk)?.message ?? request;
    } catch (error) {
      respondStatus(stream, statusOfError(error).code, statusOfError(error).details);
    }
  });
  const hungUp = new AbortController();
  stream.on('close', () => hungUp.abort());
  stream.on('end', () => {
    answerServerScoped(ctx.scoped, method, request, deadlineMs, hungUp.signal).then(
      (response) => {
        if (stream.destroyed) return;
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.once('wantTrailers', () => stream.sendTrailers(statusTrailers(grpc.status.OK, 'OK')));
        stream.end(frameMessage(response));
      },
      (error: unknown) => respondStatus(stream, statusOfError(error).code, statusOfError(error).details),
    );
  });
}

function respondStatus(stream: http2.ServerHttp2Stream, code: grpc.status, details: string): void {
  if (stream.destroyed || stream.headersSent) return;
  stream.respond(trailersOnly(code, details), { endStream: true });
}

function splitListen(listen: string): { host: string; port: number } {
  const colon = listen.lastIndexOf(':');
  return { host: listen.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(listen.slice(colon + 1)) };
}

async function shutdown(server: http2.Http2Server, open: Set<http2.ServerHttp2Session>, graceMs: number, after: () => void): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      for (const session of open) session.destroy();
    }, graceMs);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    for (const session of open) session.close();
  });
  after();
}

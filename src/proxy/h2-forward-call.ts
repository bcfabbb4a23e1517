// One forwarded call on the frame-level transport (node:http2 on both
// sides, no grpc-js). Only the first gRPC message is parsed; everything else
// is DATA bytes piped with backpressure. Headers and trailers are copied,
// minus hop headers; the client's credentials are swapped for the node's.
import http2, { constants as h2 } from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { AUTHORIZATION_METADATA_KEY, authenticateMetadata, type ServerAuthOptions } from '../auth/index.js';
import type { MethodInfo } from '../protocol/index.js';
import { planCall, type CallPlan, type PlanContext } from './call-plan.js';
import { grpcTarget } from './channel-pool.js';
import { InvalidRequestError, ProxyError } from './errors.js';
import { statusOfError } from './error-status.js';
import { FirstMessageCollector, frameMessage, MessageSizeGuard, plainMessage, type FirstMessage } from './grpc-framing.js';
import {
  forwardableHeaders,
  grpcTimeout,
  responseHeaders,
  statusFromHttp,
  statusFromReset,
  statusFromTrailers,
  statusTrailers,
  trailersOnly,
} from './grpc-headers.js';
import type { H2SessionPool } from './h2-session-pool.js';
import type { Release } from './inflight-limiter.js';
import { finishPolicy, finishQuietly, refuseFanOut, settleHeld, type FinishPolicy } from './route-finish.js';
import type { InternalTokens } from './upstream-metadata.js';
import { clientStatusOf } from './upstream-status.js';

export interface H2ForwardContext extends PlanContext {
  sessions: H2SessionPool;
  tokens: InternalTokens;
  auth?: ServerAuthOptions;
  maxMessageBytes: number;
  report(error: unknown, method: MethodInfo): void;
}

type Outcome = { trailers: http2.OutgoingHttpHeaders; status: () => grpc.StatusObject };

export class H2ForwardedCall {
  private readonly collector: FirstMessageCollector;
  private readonly requestGuard: MessageSizeGuard;
  private readonly responseGuard: MessageSizeGuard;
  private readonly pending: Buffer[] = [];
  private readonly held: Buffer[] = [];
  /** The first message is whole; later chunks wait in `pending` until the node's stream opens. */
  private opening = false;
  /** The router is deciding; open() finishes the call whatever happens meanwhile. */
  private planning = false;
  private clientEnded = false;
  private clientGone = false;
  private answered = false;
  private responded = false;
  private upstream: http2.ClientHttp2Stream | undefined;
  private upstreamError: string | undefined;
  private trailers: http2.IncomingHttpHeaders | undefined;
  private plan: CallPlan | undefined;
  private policy: FinishPolicy | undefined;
  private localStatus: { code: grpc.status; details: string } | undefined;
  private releaseCall: Release | undefined;
  /** This transport sends a call to one node: a route's secondaries are reported failed up front. */
  private refusedSecondaries: ReadonlyMap<string, grpc.StatusObject> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: H2ForwardContext,
    private readonly method: MethodInfo,
    private readonly stream: http2.ServerHttp2Stream,
    private readonly headers: http2.IncomingHttpHeaders,
    private readonly deadlineMs: number,
  ) {
    this.collector = new FirstMessageCollector(ctx.maxMessageBytes);
    this.requestGuard = new MessageSizeGuard(ctx.maxMessageBytes);
    this.responseGuard = new MessageSizeGuard(ctx.maxMessageBytes);
  }

  /** The dispatcher has put an 'error' listener on the stream already. */
  start(): void {
    this.stream.on('close', () => this.onClientClose());
    const refusal = this.admit();
    if (refusal !== undefined) return this.answerError(refusal.code, refusal.details);
    if (Number.isFinite(this.deadlineMs)) this.timer = setTimeout(() => this.expire(), Math.max(0, this.deadlineMs - Date.now()));
    this.stream.on('data', (chunk: Buffer) => this.onClientData(chunk));
    this.stream.on('end', () => this.onClientEnd());
  }

  private admit(): { code: grpc.status; details: string } | undefined {
    if (this.ctx.auth !== undefined) {
      const error = authenticateMetadata(authorizationOnly(this.headers), this.ctx.auth);
      if (error !== null) return { code: error.code ?? grpc.status.UNAUTHENTICATED, details: error.details ?? 'unauthenticated' };
    }
    try {
      this.releaseCall = this.ctx.limiter.acquireCall();
      return undefined;
    } catch (error) {
      return statusOfError(error);
    }
  }

  private onClientData(chunk: Buffer): void {
    if (this.answered) return;
    if (this.upstream !== undefined || this.opening) {
      if (!this.guard(this.requestGuard, chunk)) return;
      if (this.upstream === undefined) return void this.pending.push(chunk);
      if (!this.upstream.write(chunk)) this.holdClient(this.upstream);
      return;
    }
    let first: FirstMessage | undefined;
    try {
      first = this.collector.push(chunk);
    } catch (error) {
      return this.answerStatus(statusOfError(error));
    }
    if (first === undefined) return;
    if (!this.guard(this.requestGuard, first.rest)) return;
    this.opening = true;
    this.stream.pause();
    void this.open(first);
  }

  private onClientEnd(): void {
    this.clientEnded = true;
    if (this.upstream !== undefined) this.upstream.end();
    else if (!this.opening) {
      const field = this.method.targetRepository?.names.join('.') ?? this.method.requestType;
      this.answerStatus(statusOfError(new InvalidRequestError(field, 'missing: the call carried no request message')));
    }
  }

  private onClientClose(): void {
    if (this.answered) return;
    this.clientGone = true;
    if (this.upstream !== undefined) this.upstream.close(h2.NGHTTP2_CANCEL);
    else if (!this.planning) this.done();
  }

  /** False (and the call failed) when the chunk carries a message past the bound. */
  private guard(guard: MessageSizeGuard, chunk: Uint8Array): boolean {
    try {
      guard.check(chunk);
      return true;
    } catch (error) {
      this.failLocally(statusOfError(error));
      return false;
    }
  }

  private expire(): void {
    this.failLocally({ code: grpc.status.DEADLINE_EXCEEDED, details: 'Deadline exceeded' });
  }

  /** Ends the call with our own status now; the node's call is cancelled. */
  private failLocally(status: { code: grpc.status; details: string }): void {
    if (this.localStatus !== undefined) return;
    this.localStatus = { code: status.code, details: status.details };
    this.answerError(status.code, status.details);
    if (this.upstream !== undefined) this.upstream.close(h2.NGHTTP2_CANCEL);
  }

  private async open(first: FirstMessage): Promise<void> {
    this.planning = true;
    try {
      const message = plainMessage(first, headerValue(this.headers['grpc-encoding']), this.ctx.maxMessageBytes);
      this.plan = await planCall(this.ctx, this.method, message, () => grpc.Metadata.fromHttp2Headers(this.headers));
    } catch (error) {
      if (!(error instanceof ProxyError)) this.ctx.report(error, this.method);
      this.planning = false;
      if (this.answered) return this.done();
      return this.answerStatus(statusOfError(error));
    } finally {
      this.planning = false;
    }
    this.refusedSecondaries = refuseFanOut(this.plan.route);
    if (this.clientGone || this.answered) return this.endWithoutUpstream(this.plan);
    try {
      this.upstream = this.startUpstream(this.plan);
    } catch (error) {
      this.ctx.report(error, this.method);
      finishQuietly(this.plan.route, statusOfError(error));
      return this.answerStatus(statusOfError(error));
    }
    this.sendFirst(this.upstream, this.plan.firstMessage, first.rest);
  }

  private startUpstream(plan: CallPlan): http2.ClientHttp2Stream {
    const session = this.ctx.sessions.session(plan.route.target.address);
    const upstream = session.request(this.upstreamHeaders(plan));
    this.policy = finishPolicy(this.method, plan.route);
    upstream.on('error', (error: Error) => (this.upstreamError ??= error.message));
    upstream.on('response', (headers) => this.onResponse(headers));
    upstream.on('data', (chunk: Buffer) => this.onUpstreamData(upstream, chunk));
    upstream.on('trailers', (trailers) => (this.trailers = trailers));
    // After 'end' when the node ended the call, at once when the stream was reset.
    upstream.on('close', () => void this.finish(upstream));
    return upstream;
  }

  // Backpressure: a side whose buffer is full stops the other until 'drain'.
  // The listeners go on only when needed; most unary calls never need them.
  private holdClient(upstream: http2.ClientHttp2Stream): void {
    this.stream.pause();
    upstream.once('drain', () => this.stream.resume());
  }

  private holdUpstream(upstream: http2.ClientHttp2Stream): void {
    upstream.pause();
    this.stream.once('drain', () => upstream.resume());
  }

  private upstreamHeaders(plan: CallPlan): http2.OutgoingHttpHeaders {
    const out: http2.OutgoingHttpHeaders = { ':method': 'POST', ':scheme': 'http', ':path': this.method.path, ':authority': grpcTarget(plan.route.target.address) };
    forwardableHeaders(this.headers, out);
    if (plan.route.metadata !== undefined) Object.assign(out, plan.route.metadata);
    const secret = plan.route.target.token;
    if (secret !== undefined && secret.length > 0) out[AUTHORIZATION_METADATA_KEY] = this.ctx.tokens.header(secret);
    if (Number.isFinite(this.deadlineMs)) out['grpc-timeout'] = grpcTimeout(this.deadlineMs - Date.now());
    return out;
  }

  private sendFirst(upstream: http2.ClientHttp2Stream, first: Uint8Array, rest: Buffer): void {
    let full = !upstream.write(frameMessage(first));
    if (rest.length > 0) full = !upstream.write(rest) || full;
    for (const chunk of this.pending) full = !upstream.write(chunk) || full;
    this.pending.length = 0;
    if (this.clientEnded) upstream.end();
    else if (full) upstream.once('drain', () => this.stream.resume());
    else this.stream.resume();
  }

  private onResponse(headers: http2.IncomingHttpHeaders): void {
    const status = Number(headers[':status']);
    if (status !== 200) {
      this.localStatus = { code: statusFromHttp(status), details: `the node answered HTTP ${status}` };
      return;
    }
    // A trailers-only answer: the status is in these headers; finish() sends it.
    if (headers['grpc-status'] !== undefined) return void (this.trailers = headers);
    if (this.clientGone || this.answered) return;
    this.stream.respond({ ...responseHeaders(headers), ...this.plan?.route.responseMetadata }, { waitForTrailers: true });
    this.responded = true;
  }

  private onUpstreamData(upstream: http2.ClientHttp2Stream, chunk: Buffer): void {
    if (this.clientGone || this.answered || !this.guard(this.responseGuard, chunk)) return;
    if (this.policy?.holdsMessages === true) this.held.push(chunk);
    else if (!this.stream.write(chunk)) this.holdUpstream(upstream);
  }

  private finishing = false;

  private async finish(upstream: http2.ClientHttp2Stream): Promise<void> {
    if (this.finishing) return;
    this.finishing = true;
    const outcome = this.outcome(upstream);
    const plan = this.plan as CallPlan;
    if (this.policy?.holdsStatus !== true) {
      this.deliver(outcome.trailers);
      finishQuietly(plan.route, outcome.status(), (error) => this.ctx.report(error, this.method));
      return;
    }
    const status = outcome.status();
    plan.route.fanOut?.onNodeEnd?.(plan.route.fanOut.primary, status);
    const settled = await settleHeld(plan.route, status, (error) => this.ctx.report(error, this.method), this.refusedSecondaries);
    if (settled === status) this.deliver(outcome.trailers);
    else {
      this.held.length = 0;
      this.deliver(statusTrailers(settled.code, settled.details));
    }
  }

  private outcome(upstream: http2.ClientHttp2Stream): Outcome {
    const local = this.localStatus;
    if (local !== undefined) return { trailers: statusTrailers(local.code, local.details), status: () => ({ ...local, metadata: new grpc.Metadata() }) };
    const trailers = this.trailers;
    if (trailers !== undefined && trailers['grpc-status'] !== undefined) {
      if (Number(trailers['grpc-status']) === grpc.status.CANCELLED && !this.clientGone) {
        const status = clientStatusOf(statusFromTrailers(trailers), false);
        return { trailers: statusTrailers(status.code, status.details), status: () => status };
      }
      const { ':status': _status, ...rest } = responseHeaders(trailers);
      return { trailers: rest, status: () => statusFromTrailers(trailers) };
    }
    const reset = this.clientGone
      ? { code: grpc.status.CANCELLED, details: 'cancelled by the client', metadata: new grpc.Metadata() }
      : clientStatusOf({ ...statusFromReset(upstream.rstCode ?? h2.NGHTTP2_INTERNAL_ERROR, this.upstreamError), metadata: new grpc.Metadata() }, false);
    return { trailers: statusTrailers(reset.code, reset.details), status: () => reset };
  }

  /** Held messages, then the trailers; or trailers only when no header went out. */
  private deliver(trailers: http2.OutgoingHttpHeaders): void {
    if (this.answered) return this.done();
    this.answered = true;
    if (!this.clientGone && !this.stream.destroyed) {
      if (!this.responded) this.stream.respond({ ':status': 200, 'content-type': 'application/grpc', ...trailers }, { endStream: true });
      else {
        for (const chunk of this.held) this.stream.write(chunk);
        this.stream.once('wantTrailers', () => this.stream.sendTrailers(trailers));
        this.stream.end();
      }
    }
    this.done();
  }

  private endWithoutUpstream(plan: CallPlan): void {
    const status = this.localStatus ?? { code: grpc.status.CANCELLED, details: 'cancelled by the client' };
    finishQuietly(plan.route, { ...status, metadata: new grpc.Metadata() }, (error) => this.ctx.report(error, this.method));
    this.done();
  }

  private answerStatus(status: grpc.StatusObject): void {
    this.answerError(status.code, status.details);
  }

  private answerError(code: grpc.status, details: string): void {
    if (this.answered) return;
    this.answered = true;
    if (!this.clientGone && !this.stream.destroyed) {
      if (!this.responded) this.stream.respond(trailersOnly(code, details), { endStream: true });
      else {
        this.stream.once('wantTrailers', () => this.stream.sendTrailers(statusTrailers(code, details)));
        this.stream.end();
      }
    }
    // With a node call open, finish() ends the call; while routing, open() does.
    if (this.upstream === undefined && !this.planning) this.done();
  }

  private done(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.plan?.release();
    this.releaseCall?.();
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** What authenticateMetadata reads, without building all of the client's metadata. */
function authorizationOnly(headers: http2.IncomingHttpHeaders): grpc.Metadata {
  const metadata = new grpc.Metadata();
  const value = headers[AUTHORIZATION_METADATA_KEY];
  for (const entry of Array.isArray(value) ? value : value === undefined ? [] : [value]) metadata.add(AUTHORIZATION_METADATA_KEY, entry);
  return metadata;
}

// One forwarded call, on grpc-js streams. The first request message is held
// until the router has answered; after that bytes flow both ways untouched,
// with backpressure: a side whose write() says "full" pauses the other side
// until 'drain'.
import * as grpc from '@grpc/grpc-js';
import { authenticateMetadata, type ServerAuthOptions } from '../auth/index.js';
import type { MethodInfo } from '../protocol/index.js';
import { planCall, type CallPlan, type PlanContext } from './call-plan.js';
import type { ChannelPool } from './channel-pool.js';
import { InvalidRequestError, ProxyError } from './errors.js';
import { statusOfError } from './error-status.js';
import type { Release } from './inflight-limiter.js';
import { finishPolicy, finishQuietly, settleHeld, type FinishPolicy } from './route-finish.js';
import { SecondaryCalls } from './secondary-calls.js';
import { upstreamMetadata, type InternalTokens } from './upstream-metadata.js';
import { clientStatusOf } from './upstream-status.js';

export interface ForwardContext extends PlanContext {
  pool: ChannelPool;
  tokens: InternalTokens;
  /** Checks the client's v2 token; absent lets every call in. */
  auth?: ServerAuthOptions;
  /** Failures nobody waits for (an accessor's onFinish, a router bug). */
  report(error: unknown, method: MethodInfo): void;
}

type ServerCall = grpc.ServerDuplexStream<Buffer, Buffer>;
type UpstreamCall = grpc.ClientDuplexStream<Buffer, Buffer>;

const identity = (bytes: Buffer): Buffer => bytes;
/** Client messages held in memory while the router decides, before the client is paused. */
const PENDING_BEFORE_PAUSE = 16;
const ignore = (): void => undefined;

export function forwardCall(ctx: ForwardContext, method: MethodInfo, call: ServerCall): void {
  new ForwardedCall(ctx, method, call).start();
}

class ForwardedCall {
  /** Client messages that arrived before the upstream call was open. */
  private readonly pending: Buffer[] = [];
  private readonly held: Buffer[] = [];
  private clientEnded = false;
  private clientGone = false;
  private answered = false;
  private upstream: UpstreamCall | undefined;
  private plan: CallPlan | undefined;
  private policy: FinishPolicy | undefined;
  private upstreamStatus: grpc.StatusObject | undefined;
  private upstreamEnded = false;
  private finishing = false;
  private releaseCall: Release | undefined;
  /** The route's secondaries, when it fans out (reference transactions). */
  private secondaries: SecondaryCalls | undefined;

  constructor(
    private readonly ctx: ForwardContext,
    private readonly method: MethodInfo,
    private readonly call: ServerCall,
  ) {}

  start(): void {
    this.call.on('cancelled', () => this.onCancelled());
    const refusal = this.admit();
    if (refusal !== undefined) return this.answer(refusal);
    this.call.on('data', (chunk: Buffer) => this.onClientData(chunk));
    this.call.on('end', () => this.onClientEnd());
  }

  private admit(): grpc.StatusObject | undefined {
    const authError = this.ctx.auth === undefined ? null : authenticateMetadata(this.call.metadata, this.ctx.auth);
    if (authError !== null) return { code: authError.code ?? grpc.status.UNAUTHENTICATED, details: authError.details ?? 'unauthenticated', metadata: new grpc.Metadata() };
    try {
      this.releaseCall = this.ctx.limiter.acquireCall();
      return undefined;
    } catch (error) {
      return statusOfError(error);
    }
  }

  private onClientData(chunk: Buffer): void {
    if (this.upstream !== undefined) {
      this.secondaries?.write(chunk);
      if (!this.upstream.write(chunk)) this.holdClient(this.upstream);
      return;
    }
    this.pending.push(chunk);
    // While the router decides, a few more messages may wait here; past that
    // the client is held. (Pausing at once costs a stream round of its own.)
    if (this.pending.length === PENDING_BEFORE_PAUSE) this.call.pause();
    if (this.pending.length === 1) void this.open(chunk);
  }

  private onClientEnd(): void {
    this.clientEnded = true;
    this.secondaries?.end();
    if (this.upstream !== undefined) this.upstream.end();
    else if (this.pending.length === 0) {
      const field = this.method.targetRepository?.names.join('.') ?? this.method.requestType;
      this.answer(statusOfError(new InvalidRequestError(field, 'missing: the call carried no request message')));
    }
  }

  private onCancelled(): void {
    this.clientGone = true;
    this.secondaries?.cancel();
    if (this.upstream !== undefined) this.upstream.cancel();
    // While the router decides, open() sees clientGone and ends the call.
    else if (this.pending.length === 0) this.done();
  }

  private async open(first: Buffer): Promise<void> {
    try {
      this.plan = await planCall(this.ctx, this.method, first, () => this.call.metadata);
    } catch (error) {
      if (!(error instanceof ProxyError)) this.ctx.report(error, this.method);
      return this.answer(statusOfError(error));
    }
    if (this.clientGone) return this.endWithoutUpstream(this.plan, { code: grpc.status.CANCELLED, details: 'cancelled by the client', metadata: new grpc.Metadata() });
    try {
      this.upstream = this.startUpstream(this.plan);
    } catch (error) {
      this.ctx.report(error, this.method);
      return this.endWithoutUpstream(this.plan, statusOfError(error));
    }
    this.openSecondaries(this.plan, first);
    this.sendPending(this.upstream, this.plan.firstMessage);
  }

  private openSecondaries(plan: CallPlan, first: Buffer): void {
    const fanOut = plan.route.fanOut;
    if (fanOut === undefined) return;
    this.secondaries = new SecondaryCalls(this.ctx, this.method, fanOut);
    this.secondaries.open(this.call.metadata, this.call.getDeadline(), first);
    for (const chunk of this.pending.slice(1)) this.secondaries.write(chunk);
    if (this.clientEnded) this.secondaries.end();
  }

  private startUpstream(plan: CallPlan): UpstreamCall {
    const client = this.ctx.pool.client(plan.route.target.address);
    const metadata = upstreamMetadata(this.call.metadata, plan.route, this.ctx.tokens);
    const upstream = client.makeBidiStreamRequest(this.method.path, identity, identity, metadata, { deadline: this.call.getDeadline() });
    this.policy = finishPolicy(this.method, plan.route);
    upstream.on('error', ignore);
    upstream.on('metadata', (headers: grpc.Metadata) => {
      if (this.clientGone) return;
      for (const [key, value] of Object.entries(plan.route.responseMetadata ?? {})) headers.set(key, value);
      this.call.sendMetadata(headers);
    });
    upstream.on('data', (chunk: Buffer) => this.onUpstreamData(upstream, chunk));
    upstream.on('end', () => {
      this.upstreamEnded = true;
      this.maybeFinish();
    });
    upstream.on('status', (status: grpc.StatusObject) => {
      this.upstreamStatus = status;
      const fanOut = plan.route.fanOut;
      fanOut?.onNodeEnd?.(fanOut.primary, status);
      this.maybeFinish();
    });
    return upstream;
  }

  // Backpressure: a side whose buffer is full stops the other until 'drain'.
  // The listeners go on only when needed; most unary calls never need them.
  private holdClient(upstream: UpstreamCall): void {
    this.call.pause();
    upstream.once('drain', () => this.call.resume());
  }

  private holdUpstream(upstream: UpstreamCall): void {
    upstream.pause();
    this.call.once('drain', () => upstream.resume());
  }

  private sendPending(upstream: UpstreamCall, first: Uint8Array): void {
    let full = !upstream.write(Buffer.from(first.buffer, first.byteOffset, first.byteLength));
    for (const chunk of this.pending.slice(1)) full = !upstream.write(chunk) || full;
    this.pending.length = 0;
    if (this.clientEnded) upstream.end();
    else if (full) upstream.once('drain', () => this.call.resume());
    else if (this.call.isPaused()) this.call.resume();
  }

  private onUpstreamData(upstream: UpstreamCall, chunk: Buffer): void {
    if (this.clientGone) return;
    if (this.policy?.holdsMessages === true) this.held.push(chunk);
    else if (!this.call.write(chunk)) this.holdUpstream(upstream);
  }

  // grpc-js reports the status as soon as it arrives, while messages may
  // still wait in the paused stream: the client gets them first.
  private maybeFinish(): void {
    const plan = this.plan;
    if (this.upstreamStatus === undefined || plan === undefined) return;
    const status = clientStatusOf(this.upstreamStatus, this.clientGone);
    if ((!this.upstreamEnded && !this.clientGone) || this.finishing) return;
    this.finishing = true;
    if (this.policy?.holdsStatus === true) void this.finishHeld(plan, status);
    else {
      this.answer(status);
      finishQuietly(plan.route, status, (error) => this.ctx.report(error, this.method));
    }
  }

  private async finishHeld(plan: CallPlan, status: grpc.StatusObject): Promise<void> {
    const secondaries = await this.secondaries?.settled();
    const settled = await settleHeld(plan.route, status, (error) => this.ctx.report(error, this.method), secondaries);
    if (settled === status && !this.clientGone) for (const chunk of this.held) this.call.write(chunk);
    this.held.length = 0;
    this.answer(settled);
  }

  private endWithoutUpstream(plan: CallPlan, status: grpc.StatusObject): void {
    finishQuietly(plan.route, status, (error) => this.ctx.report(error, this.method));
    this.answer(status);
  }

  private answer(status: grpc.StatusObject): void {
    if (this.answered) return;
    this.answered = true;
    if (!this.clientGone) {
      if (status.code === grpc.status.OK) this.call.end(status.metadata);
      else this.call.emit('error', { code: status.code, details: status.details, metadata: status.metadata });
    }
    this.done();
  }

  private done(): void {
    this.plan?.release();
    this.releaseCall?.();
  }
}

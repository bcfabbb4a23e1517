// The secondaries of a fanned-out call (DESIGN §10). Each gets the client's
// request stream, with its own rewritten first message; their responses are
// read and dropped. None of them may slow the client down: a secondary whose
// unsent bytes pass the bound is cut off instead, and so is one still running
// settleMs after the primary ended.
import * as grpc from '@grpc/grpc-js';
import type { MethodInfo } from '../protocol/index.js';
import type { ChannelPool } from './channel-pool.js';
import type { FirstMessageCodec } from './first-message.js';
import type { FanOut, SecondaryRoute } from './route.js';
import { upstreamMetadata, type InternalTokens } from './upstream-metadata.js';

type UpstreamCall = grpc.ClientDuplexStream<Buffer, Buffer>;

export interface SecondaryCallContext {
  pool: ChannelPool;
  tokens: InternalTokens;
  codec: FirstMessageCodec;
}

interface Secondary {
  readonly name: string;
  readonly call: UpstreamCall;
  bufferedBytes: number;
}

const identity = (bytes: Buffer): Buffer => bytes;
const ignore = (): void => undefined;

export class SecondaryCalls {
  private readonly live = new Map<string, Secondary>();
  private readonly statuses = new Map<string, grpc.StatusObject>();
  private onAllEnded: (() => void) | undefined;

  constructor(
    private readonly ctx: SecondaryCallContext,
    private readonly method: MethodInfo,
    private readonly fanOut: FanOut,
  ) {}

  /** Starts every secondary with its copy of the first message; one that cannot start has ended already. */
  open(clientMetadata: grpc.Metadata, deadline: grpc.Deadline, first: Uint8Array): void {
    for (const secondary of this.fanOut.secondaries) {
      try {
        this.start(secondary, clientMetadata, deadline, first);
      } catch (error) {
        this.ended(secondary.name, { code: grpc.status.INTERNAL, details: `not started: ${error instanceof Error ? error.message : String(error)}`, metadata: new grpc.Metadata() });
      }
    }
  }

  write(chunk: Buffer): void {
    for (const secondary of this.live.values()) this.send(secondary, chunk);
  }

  end(): void {
    for (const secondary of this.live.values()) secondary.call.end();
  }

  /** The client went away: every secondary stops too. */
  cancel(): void {
    for (const name of [...this.live.keys()]) this.cut(name, 'the client cancelled the call');
  }

  /** Every secondary's status, once all have ended; those still running settleMs from now are cut off. */
  settled(): Promise<ReadonlyMap<string, grpc.StatusObject>> {
    if (this.live.size === 0) return Promise.resolve(this.statuses);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        for (const name of [...this.live.keys()]) this.cut(name, `still running ${this.fanOut.settleMs} ms after the primary ended`);
      }, this.fanOut.settleMs);
      this.onAllEnded = () => {
        clearTimeout(timer);
        resolve(this.statuses);
      };
    });
  }

  private start(route: SecondaryRoute, clientMetadata: grpc.Metadata, deadline: grpc.Deadline, first: Uint8Array): void {
    // A secondary's route is a route to one node; its first message is rewritten the same way.
    const bytes = this.ctx.codec.rewrite(this.method, first, route);
    const metadata = upstreamMetadata(clientMetadata, route, this.ctx.tokens);
    const call = this.ctx.pool.client(route.target.address).makeBidiStreamRequest(this.method.path, identity, identity, metadata, { deadline });
    const secondary: Secondary = { name: route.name, call, bufferedBytes: 0 };
    this.live.set(route.name, secondary);
    call.on('error', ignore);
    call.on('data', ignore);
    call.on('status', (status: grpc.StatusObject) => this.ended(route.name, status));
    this.send(secondary, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  private send(secondary: Secondary, chunk: Buffer): void {
    secondary.bufferedBytes += chunk.byteLength;
    if (secondary.bufferedBytes > this.fanOut.maxBufferedBytes) {
      return this.cut(secondary.name, `fell behind the client by more than ${this.fanOut.maxBufferedBytes} bytes`);
    }
    secondary.call.write(chunk, () => {
      secondary.bufferedBytes -= chunk.byteLength;
    });
  }

  private cut(name: string, why: string): void {
    const secondary = this.live.get(name);
    if (secondary === undefined) return;
    this.ended(name, { code: grpc.status.CANCELLED, details: `secondary ${name} cut off: ${why}`, metadata: new grpc.Metadata() });
    secondary.call.cancel();
  }

  private ended(name: string, status: grpc.StatusObject): void {
    if (this.statuses.has(name)) return;
    this.statuses.set(name, status);
    this.live.delete(name);
    this.fanOut.onNodeEnd?.(name, status);
    if (this.live.size === 0) this.onAllEnded?.();
  }
}

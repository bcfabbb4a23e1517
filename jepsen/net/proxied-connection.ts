// One client connection through a FaultProxy and its upstream twin. The
// upstream is dialled only while a handshake could get through (neither
// direction blackholed), so a partitioned target sees no connection at all.
import { connect, type Socket } from 'node:net';
import { DirectionalPump, type DirectionCounters, type PumpLimits } from './directional-pump.js';
import type { LinkMode } from './link-mode.js';

export interface ConnectionContext {
  readonly targetHost: string;
  readonly targetPort: number;
  readonly limits: PumpLimits;
  readonly upstreamMode: () => LinkMode;
  readonly downstreamMode: () => LinkMode;
  readonly upstreamCounters: DirectionCounters;
  readonly downstreamCounters: DirectionCounters;
  /** Called once, when both sockets are gone; `reset` tells whether the proxy reset it. */
  readonly onClosed: (connection: ProxiedConnection, reset: boolean) => void;
  readonly onDialFailed: () => void;
}

export class ProxiedConnection {
  private upstream: Socket | null = null;
  private readonly up: DirectionalPump;
  private down: DirectionalPump | null = null;
  private wasReset = false;
  /** Reset or aborted: nothing more is dialled or delivered. */
  private stopped = false;
  private done = false;

  constructor(private readonly client: Socket, private readonly ctx: ConnectionContext) {
    client.setNoDelay(true);
    this.up = new DirectionalPump(client, ctx.upstreamMode, ctx.limits, ctx.upstreamCounters);
    client.on('error', () => this.abort());
    client.on('close', () => this.socketClosed(client));
    this.modesChanged();
  }

  get bufferedBytes(): { upstream: number; downstream: number } {
    return { upstream: this.up.bufferedBytes, downstream: this.down?.bufferedBytes ?? 0 };
  }

  /** Re-evaluate after a mode change: reset, dial, or let waiting bytes go. */
  modesChanged(): void {
    if (this.done || this.stopped) return;
    const up = this.ctx.upstreamMode().kind;
    const down = this.ctx.downstreamMode().kind;
    if (up === 'reset' || down === 'reset') {
      this.reset();
      return;
    }
    if (!this.upstream && up !== 'blackhole' && down !== 'blackhole') this.dial();
    this.up.flush();
    this.down?.flush();
  }

  /** Send RST both ways and forget everything in flight. */
  reset(): void {
    if (this.done || this.stopped) return;
    this.wasReset = true;
    this.stopped = true;
    this.up.dispose();
    this.down?.dispose();
    resetSocket(this.client);
    if (this.upstream) resetSocket(this.upstream);
  }

  private dial(): void {
    const upstream = connect({ host: this.ctx.targetHost, port: this.ctx.targetPort, allowHalfOpen: true });
    this.upstream = upstream;
    upstream.setNoDelay(true);
    upstream.on('connect', () => {
      this.down = new DirectionalPump(upstream, this.ctx.downstreamMode, this.ctx.limits, this.ctx.downstreamCounters);
      if (this.done || this.stopped) return;
      this.down.attachSink(this.client);
      this.up.attachSink(upstream);
    });
    upstream.on('error', () => {
      // A refused or failed dial looks to the client like a dead port: RST.
      if (!this.down) this.ctx.onDialFailed();
      this.abort();
    });
    upstream.on('close', () => this.socketClosed(upstream));
  }

  /** An error on one side: reset the other, as a crashed peer's kernel would. */
  private abort(): void {
    this.stopped = true;
    this.up.dispose();
    this.down?.dispose();
    if (!this.client.destroyed) resetSocket(this.client);
    if (this.upstream && !this.upstream.destroyed) resetSocket(this.upstream);
  }

  private socketClosed(socket: Socket): void {
    // Bytes toward a closed socket have nowhere to go; bytes from it still may.
    if (socket === this.client) this.down?.dispose();
    else this.up.dispose();
    const upstreamGone = !this.upstream || this.upstream.destroyed;
    if (this.client.destroyed && upstreamGone) this.finish();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.up.dispose();
    this.down?.dispose();
    if (this.upstream && !this.upstream.destroyed) this.upstream.destroy();
    this.ctx.onClosed(this, this.wasReset);
  }
}

function resetSocket(socket: Socket): void {
  if (socket.destroyed) return;
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

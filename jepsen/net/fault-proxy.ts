// A TCP proxy for one directed link `from -> to`: it carries the connections
// `from` opens to `to`. Upstream bytes (from's, toward to) obey the upstream
// mode; downstream bytes (to's replies) obey the downstream mode. Modes apply
// at once to existing connections and to new ones.
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { DirectionCounters, OverflowPolicy } from './directional-pump.js';
import { ProxyStateError } from './errors.js';
import { PASS, type LinkMode } from './link-mode.js';
import { ProxiedConnection } from './proxied-connection.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface FaultProxyOptions {
  /** For logs and stats, e.g. `r1->r2`. */
  readonly name?: string;
  readonly target: HostPort;
  /** Default 127.0.0.1. */
  readonly listenHost?: string;
  /** Default 0: the kernel picks a free port. */
  readonly listenPort?: number;
  /** Connections beyond this are reset at accept and counted as rejected. Default 1024. */
  readonly maxConnections?: number;
  /** Held bytes per direction per connection before `overflow` applies. Default 1 MiB. */
  readonly maxBufferedBytes?: number;
  /** pause (default): stop reading, as a full TCP window would; drop: discard beyond the bound and count it. */
  readonly overflow?: OverflowPolicy;
}

export interface DirectionStats {
  /** Bytes read from the sender. */
  readonly receivedBytes: number;
  /** Bytes written to the receiver. */
  readonly forwardedBytes: number;
  /** Bytes discarded: overflow under `drop`, or held when a connection died. */
  readonly droppedBytes: number;
  /** Bytes held right now across open connections. */
  readonly bufferedBytes: number;
}

export interface FaultProxyStats {
  readonly connectionsAccepted: number;
  readonly connectionsActive: number;
  /** Refused at accept because maxConnections were open. */
  readonly connectionsRejected: number;
  /** Reset by the proxy (reset mode), at accept or later. */
  readonly connectionsReset: number;
  /** Upstream dials that failed (target down): the client got an RST. */
  readonly dialFailures: number;
  readonly upstream: DirectionStats;
  readonly downstream: DirectionStats;
}

export interface LinkModes {
  readonly upstream: LinkMode;
  readonly downstream: LinkMode;
}

export class FaultProxy {
  readonly name: string;
  private readonly server: Server;
  private readonly connections = new Set<ProxiedConnection>();
  private modes: LinkModes = { upstream: PASS, downstream: PASS };
  private listening: HostPort | null = null;
  private closed = false;
  private readonly counts = { accepted: 0, rejected: 0, reset: 0, dialFailures: 0 };
  private readonly upCounters: DirectionCounters = { receivedBytes: 0, forwardedBytes: 0, droppedBytes: 0 };
  private readonly downCounters: DirectionCounters = { receivedBytes: 0, forwardedBytes: 0, droppedBytes: 0 };
  private readonly maxConnections: number;

  constructor(private readonly options: FaultProxyOptions) {
    this.name = options.name ?? `proxy->${options.target.host}:${options.target.port}`;
    this.maxConnections = options.maxConnections ?? 1024;
    this.server = createServer({ allowHalfOpen: true, pauseOnConnect: false }, (socket) => this.accept(socket));
  }

  async start(): Promise<HostPort> {
    if (this.closed) throw new ProxyStateError(`proxy ${this.name} is closed`);
    if (this.listening) return this.listening;
    const host = this.options.listenHost ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.listenPort ?? 0, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const port = (this.server.address() as AddressInfo).port;
    this.listening = { host, port };
    return this.listening;
  }

  /** The address clients dial instead of the target. */
  get address(): HostPort {
    if (!this.listening) throw new ProxyStateError(`proxy ${this.name} is not started`);
    return this.listening;
  }

  get currentModes(): LinkModes {
    return this.modes;
  }

  /** Switch modes; existing connections follow at once. */
  setModes(modes: Partial<LinkModes>): void {
    this.modes = { upstream: modes.upstream ?? this.modes.upstream, downstream: modes.downstream ?? this.modes.downstream };
    for (const connection of [...this.connections]) connection.modesChanged();
  }

  stats(): FaultProxyStats {
    let upBuffered = 0;
    let downBuffered = 0;
    for (const connection of this.connections) {
      const buffered = connection.bufferedBytes;
      upBuffered += buffered.upstream;
      downBuffered += buffered.downstream;
    }
    return {
      connectionsAccepted: this.counts.accepted,
      connectionsActive: this.connections.size,
      connectionsRejected: this.counts.rejected,
      connectionsReset: this.counts.reset,
      dialFailures: this.counts.dialFailures,
      upstream: { ...this.upCounters, bufferedBytes: upBuffered },
      downstream: { ...this.downCounters, bufferedBytes: downBuffered },
    };
  }

  /** Stop listening and reset every open connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const connection of [...this.connections]) connection.reset();
    if (!this.listening) return;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    socket.on('error', () => undefined);
    const resetting = this.modes.upstream.kind === 'reset' || this.modes.downstream.kind === 'reset';
    if (this.closed || resetting || this.connections.size >= this.maxConnections) {
      if (resetting) this.counts.reset++;
      else this.counts.rejected++;
      socket.resetAndDestroy();
      return;
    }
    this.counts.accepted++;
    const connection = new ProxiedConnection(socket, {
      targetHost: this.options.target.host,
      targetPort: this.options.target.port,
      limits: { maxBufferedBytes: this.options.maxBufferedBytes ?? 1024 * 1024, overflow: this.options.overflow ?? 'pause' },
      upstreamMode: () => this.modes.upstream,
      downstreamMode: () => this.modes.downstream,
      upstreamCounters: this.upCounters,
      downstreamCounters: this.downCounters,
      onClosed: (closed, wasReset) => {
        this.connections.delete(closed);
        if (wasReset) this.counts.reset++;
      },
      onDialFailed: () => this.counts.dialFailures++,
    });
    this.connections.add(connection);
  }
}

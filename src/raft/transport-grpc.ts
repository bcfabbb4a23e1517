// Raft traffic between routers over gRPC. One long-lived client stream per
// peer carries batches of messages; there are no acknowledgements because
// Raft already tolerates loss, duplication and reordering across streams.
// What this file guarantees instead: send() never blocks or throws, memory per
// peer is bounded, a failed stream is reported and reopened with backoff, and
// nothing reaches the core without the internal token and a full decode.
import { createHash, timingSafeEqual } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import type { Message, NodeId } from './core/types.js';
import {
  DEFAULT_DECODE_LIMITS,
  TransportDecodeError,
  batchFramedBytes,
  decodeBatch,
  decodeProbeResponse,
  encodeBatch,
  encodeMessage,
  encodeProbeResponse,
  encodeStreamSummary,
  transportMethodPaths,
} from './transport-codec.js';
import type { DecodeLimits } from './transport-codec.js';

export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export interface BackoffMs {
  readonly min: number;
  readonly max: number;
}

export interface GrpcTransportOptions {
  readonly selfId: NodeId;
  readonly peers?: ReadonlyMap<NodeId, string>;
  /** Sent as `authorization: Bearer <token>`; inbound streams must carry exactly this. */
  readonly internalToken: string;
  readonly maxQueuedMessagesPerPeer?: number;
  readonly maxQueuedBytesPerPeer?: number;
  /** Largest batch on the wire; also the receive limit (see raftServerOptions). */
  readonly maxMessageBytes?: number;
  /** Batches are also cut to fit decodeLimits, which both ends should share. */
  readonly maxMessagesPerBatch?: number;
  readonly reconnectBackoffMs?: BackoffMs;
  /** HTTP/2 pings find a peer that vanished without closing its socket. */
  readonly keepaliveTimeMs?: number;
  readonly keepaliveTimeoutMs?: number;
  readonly channelCredentials?: grpc.ChannelCredentials;
  readonly decodeLimits?: Partial<DecodeLimits>;
  readonly logger?: pino.Logger;
}

export interface TransportCounters {
  /** Messages written to a peer's stream. */
  sent: number;
  /** Messages decoded, addressed to us and handed to the handler. */
  received: number;
  /** Outbound messages discarded: queue full, unknown peer, unencodable, or queued when the stream failed. */
  dropped: number;
  /** Streams opened to a peer after its first one. */
  reconnects: number;
  /** Inbound messages (or whole batches, when the framing is broken) that failed to decode. */
  decodeErrors: number;
  /** Inbound calls refused for a missing or wrong token. */
  rejectedStreams: number;
  /** Inbound messages addressed to another node: a peer has our address under the wrong id. */
  misaddressed: number;
}

const DEFAULTS = {
  maxQueuedMessagesPerPeer: 4096,
  maxQueuedBytesPerPeer: 64 * 1024 * 1024,
  maxMessagesPerBatch: 1024,
  reconnectBackoffMs: { min: 100, max: 3_000 },
  keepaliveTimeMs: 10_000,
  keepaliveTimeoutMs: 5_000,
} as const;

/** Server options the host gRPC server needs for Raft batches (grpc-js defaults to 4 MiB). */
export function raftServerOptions(maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES): grpc.ServerOptions {
  return {
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.keepalive_time_ms': DEFAULTS.keepaliveTimeMs,
    'grpc.keepalive_timeout_ms': DEFAULTS.keepaliveTimeoutMs,
  };
}

type UnaryCallback = grpc.sendUnaryData<Buffer>;
type InboundCall = grpc.ServerReadableStream<Buffer, Buffer>;
/** What every server call kind offers: enough to authenticate it. */
type InboundCallHead = Pick<grpc.ServerUnaryCall<Buffer, Buffer>, 'metadata' | 'getPeer'>;

/** One stream to a peer. `call` is set right after construction; the field exists so callbacks can name the stream. */
class OutboundStream {
  call: grpc.ClientWritableStream<Uint8Array> | undefined;
  /** Written but not yet flushed to the socket: bounds memory inside grpc-js. */
  inflightBytes = 0;
}

interface QueuedMessage {
  readonly bytes: Uint8Array;
  readonly entries: number;
}

interface PeerLink {
  readonly id: NodeId;
  address: string;
  client: grpc.Client | undefined;
  stream: OutboundStream | undefined;
  retryTimer: NodeJS.Timeout | undefined;
  /** Encoded messages, oldest first. */
  queue: QueuedMessage[];
  queuedBytes: number;
  consecutiveFailures: number;
  streamsOpened: number;
  flushScheduled: boolean;
  /** Log a full queue once per episode, not once per message. */
  overflowLogged: boolean;
}

interface InboundStream {
  readonly call: InboundCall;
  readonly callback: UnaryCallback;
  received: number;
  decodeErrors: number;
  done: boolean;
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function identity(bytes: Buffer): Buffer {
  return bytes;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function requirePositiveInt(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new TypeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

function requireNodeId(name: string, value: NodeId): NodeId {
  return requirePositiveInt(name, value);
}

function errorDetails(err: unknown): { code?: number; details: string } {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'number') {
    const details = 'details' in err && typeof err.details === 'string' ? err.details : String(err);
    return { code: err.code, details };
  }
  return { details: err instanceof Error ? err.message : String(err) };
}

/** Options after defaults and checks. */
interface Settings {
  readonly authorizationHeader: string;
  readonly expectedAuthDigest: Buffer;
  readonly maxQueuedMessagesPerPeer: number;
  readonly maxQueuedBytesPerPeer: number;
  readonly maxMessageBytes: number;
  readonly maxMessagesPerBatch: number;
  readonly reconnectBackoffMs: BackoffMs;
  readonly channelOptions: grpc.ChannelOptions;
  readonly channelCredentials: grpc.ChannelCredentials;
  readonly decodeLimits: DecodeLimits;
}

function checkBackoff(backoff: BackoffMs): BackoffMs {
  requirePositiveInt('reconnectBackoffMs.min', backoff.min);
  requirePositiveInt('reconnectBackoffMs.max', backoff.max);
  if (backoff.max < backoff.min) throw new TypeError('reconnectBackoffMs.max must be >= reconnectBackoffMs.min');
  return { min: backoff.min, max: backoff.max };
}

function channelOptions(options: GrpcTransportOptions, maxMessageBytes: number, backoff: BackoffMs): grpc.ChannelOptions {
  return {
    'grpc.max_send_message_length': maxMessageBytes,
    // Only the tiny StreamSummary and ProbeResponse come back.
    'grpc.max_receive_message_length': 64 * 1024,
    'grpc.keepalive_time_ms': requirePositiveInt('keepaliveTimeMs', options.keepaliveTimeMs ?? DEFAULTS.keepaliveTimeMs),
    'grpc.keepalive_timeout_ms': requirePositiveInt(
      'keepaliveTimeoutMs',
      options.keepaliveTimeoutMs ?? DEFAULTS.keepaliveTimeoutMs,
    ),
    // grpc-js backs off up to 120 s by default; a returning peer must be found within our own bound.
    'grpc.initial_reconnect_backoff_ms': backoff.min,
    'grpc.max_reconnect_backoff_ms': backoff.max,
    // A retried stream would replay buffered batches; Raft prefers loss to stale copies.
    'grpc.enable_retries': 0,
    // Keep connections private to this transport so close() really closes them.
    'grpc.use_local_subchannel_pool': 1,
  };
}

function authorizationHeader(token: string): string {
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new TypeError('internalToken must be a non-empty string of printable ASCII without spaces');
  }
  return `Bearer ${token}`;
}

function resolveSettings(options: GrpcTransportOptions): Settings {
  const header = authorizationHeader(options.internalToken);
  const maxMessageBytes = requirePositiveInt('maxMessageBytes', options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES);
  const maxMessagesPerBatch = requirePositiveInt(
    'maxMessagesPerBatch',
    options.maxMessagesPerBatch ?? DEFAULTS.maxMessagesPerBatch,
  );
  const decodeLimits = { ...DEFAULT_DECODE_LIMITS, ...options.decodeLimits };
  if (maxMessagesPerBatch > decodeLimits.maxMessagesPerBatch) {
    throw new TypeError('maxMessagesPerBatch exceeds decodeLimits.maxMessagesPerBatch: peers would refuse our batches');
  }
  const reconnectBackoffMs = checkBackoff(options.reconnectBackoffMs ?? DEFAULTS.reconnectBackoffMs);
  return {
    authorizationHeader: header,
    expectedAuthDigest: sha256(header),
    maxQueuedMessagesPerPeer: requirePositiveInt(
      'maxQueuedMessagesPerPeer',
      options.maxQueuedMessagesPerPeer ?? DEFAULTS.maxQueuedMessagesPerPeer,
    ),
    maxQueuedBytesPerPeer: requirePositiveInt(
      'maxQueuedBytesPerPeer',
      options.maxQueuedBytesPerPeer ?? DEFAULTS.maxQueuedBytesPerPeer,
    ),
    maxMessageBytes,
    maxMessagesPerBatch,
    reconnectBackoffMs,
    channelOptions: channelOptions(options, maxMessageBytes, reconnectBackoffMs),
    channelCredentials: options.channelCredentials ?? grpc.credentials.createInsecure(),
    decodeLimits,
  };
}

export class GrpcTransport {
  readonly selfId: NodeId;
  private readonly settings: Settings;
  private readonly logger: pino.Logger;
  private readonly links = new Map<NodeId, PeerLink>();
  private readonly inbound = new Set<InboundStream>();
  private readonly stats: TransportCounters = {
    sent: 0,
    received: 0,
    dropped: 0,
    reconnects: 0,
    decodeErrors: 0,
    rejectedStreams: 0,
    misaddressed: 0,
  };
  private messageHandler: ((m: Message) => void) | undefined;
  private unreachableHandler: ((peer: NodeId) => void) | undefined;
  private ownedServer: grpc.Server | undefined;
  private closed = false;

  constructor(options: GrpcTransportOptions) {
    this.selfId = requireNodeId('selfId', options.selfId);
    this.settings = resolveSettings(options);
    this.logger = options.logger ?? pino({ name: 'raft-transport' });
    for (const [id, address] of options.peers ?? []) this.setPeer(id, address);
  }

  // ------------------------------------------------------------ membership

  /** Adds or moves a peer. Our own id is ignored, so a whole membership map can be passed. */
  setPeer(id: NodeId, address: string): void {
    requireNodeId('peer id', id);
    if (address.length === 0) throw new TypeError(`empty address for peer ${id}`);
    if (this.closed || id === this.selfId) return;
    const link = this.links.get(id);
    if (link === undefined) {
      this.links.set(id, GrpcTransport.newLink(id, address));
      return;
    }
    if (link.address === address) return;
    this.disconnect(link);
    link.address = address;
    link.consecutiveFailures = 0;
    this.scheduleFlush(link);
  }

  removePeer(id: NodeId): void {
    const link = this.links.get(id);
    if (link === undefined) return;
    this.links.delete(id);
    this.disconnect(link);
    this.dropQueue(link);
  }

  private static newLink(id: NodeId, address: string): PeerLink {
    return {
      id,
      address,
      client: undefined,
      stream: undefined,
      retryTimer: undefined,
      queue: [],
      queuedBytes: 0,
      consecutiveFailures: 0,
      streamsOpened: 0,
      flushScheduled: false,
      overflowLogged: false,
    };
  }

  // ------------------------------------------------------------ handlers and counters

  onMessage(handler: (m: Message) => void): void {
    this.messageHandler = handler;
  }

  /** Called each time a stream to `peer` fails; the driver reports it to the core. */
  onUnreachable(handler: (peer: NodeId) => void): void {
    this.unreachableHandler = handler;
  }

  counters(): TransportCounters {
    return { ...this.stats };
  }

  // ------------------------------------------------------------ sending

  /** Queues messages for their peers. Never blocks, never throws: what cannot be queued is dropped and counted. */
  send(messages: readonly Message[]): void {
    for (const m of messages) {
      try {
        this.enqueue(m);
      } catch (err) {
        this.stats.dropped++;
        this.logger.warn({ err, to: m.to, type: m.type }, 'dropped unencodable raft message');
      }
    }
  }

  private enqueue(m: Message): void {
    const link = this.closed ? undefined : this.links.get(m.to);
    if (link === undefined) {
      this.stats.dropped++;
      if (!this.closed) this.logger.debug({ to: m.to, type: m.type }, 'dropped raft message for unknown peer');
      return;
    }
    const bytes = encodeMessage(m);
    if (!this.fitsOneBatch(m, bytes)) {
      this.stats.dropped++;
      return;
    }
    if (!this.hasRoom(link, bytes.length)) {
      this.stats.dropped++;
      return;
    }
    link.queue.push({ bytes, entries: m.entries.length });
    link.queuedBytes += bytes.length;
    this.scheduleFlush(link);
  }

  /** A message the receiver would refuse is better dropped here, loudly. */
  private fitsOneBatch(m: Message, bytes: Uint8Array): boolean {
    const fits =
      batchFramedBytes(bytes.length) <= this.settings.maxMessageBytes &&
      m.entries.length <= this.settings.decodeLimits.maxEntriesPerMessage &&
      m.entries.length <= this.settings.decodeLimits.maxEntriesPerBatch;
    if (!fits) {
      this.logger.warn(
        { to: m.to, type: m.type, bytes: bytes.length, entries: m.entries.length },
        'dropped raft message larger than one batch may be',
      );
    }
    return fits;
  }

  private hasRoom(link: PeerLink, bytes: number): boolean {
    const { maxQueuedMessagesPerPeer, maxQueuedBytesPerPeer } = this.settings;
    const room = link.queue.length < maxQueuedMessagesPerPeer && link.queuedBytes + bytes <= maxQueuedBytesPerPeer;
    if (!room && !link.overflowLogged) {
      link.overflowLogged = true;
      this.logger.warn({ peer: link.id, queued: link.queue.length }, 'raft send queue full, dropping messages');
    }
    return room;
  }

  /** Deferred to a microtask so that messages from one Ready share a batch. */
  private scheduleFlush(link: PeerLink): void {
    if (link.flushScheduled) return;
    link.flushScheduled = true;
    queueMicrotask(() => {
      link.flushScheduled = false;
      this.pump(link);
    });
  }

  private pump(link: PeerLink): void {
    if (this.closed || this.links.get(link.id) !== link || link.retryTimer !== undefined) return;
    if (link.queue.length === 0) {
      link.overflowLogged = false;
      return;
    }
    let stream = link.stream;
    if (stream === undefined) {
      try {
        stream = this.openStream(link);
      } catch (err) {
        // e.g. an address grpc-js cannot parse: the same path as a failed stream.
        this.streamFailed(link, err);
        return;
      }
    }
    const call = stream.call;
    if (call === undefined) return;
    while (link.queue.length > 0 && stream.inflightBytes < this.settings.maxMessageBytes && !call.writableNeedDrain) {
      this.writeBatch(link, stream, call);
    }
  }

  private writeBatch(link: PeerLink, stream: OutboundStream, call: grpc.ClientWritableStream<Uint8Array>): void {
    const batch = this.takeBatch(link);
    const bytes = encodeBatch(batch);
    stream.inflightBytes += bytes.length;
    this.stats.sent += batch.length;
    call.write(bytes, () => {
      stream.inflightBytes -= bytes.length;
      if (link.stream === stream) this.scheduleFlush(link);
    });
  }

  private takeBatch(link: PeerLink): Uint8Array[] {
    let count = 0;
    let batchBytes = 0;
    let batchEntries = 0;
    for (const queued of link.queue) {
      const framed = batchFramedBytes(queued.bytes.length);
      const full =
        count === this.settings.maxMessagesPerBatch ||
        batchBytes + framed > this.settings.maxMessageBytes ||
        batchEntries + queued.entries > this.settings.decodeLimits.maxEntriesPerBatch;
      if (full) break;
      batchBytes += framed;
      batchEntries += queued.entries;
      count++;
    }
    const batch = link.queue.splice(0, count).map((queued) => queued.bytes);
    for (const bytes of batch) link.queuedBytes -= bytes.length;
    return batch;
  }

  private clientFor(link: PeerLink): grpc.Client {
    link.client ??= new grpc.Client(link.address, this.settings.channelCredentials, this.settings.channelOptions);
    return link.client;
  }

  private openStream(link: PeerLink): OutboundStream {
    const client = this.clientFor(link);
    if (link.streamsOpened++ > 0) this.stats.reconnects++;
    const metadata = new grpc.Metadata();
    metadata.set('authorization', this.settings.authorizationHeader);
    const stream = new OutboundStream();
    const call = client.makeClientStreamRequest<Uint8Array, Buffer>(
      transportMethodPaths().send,
      toBuffer,
      identity,
      metadata,
      {},
      (err) => this.onStreamEnded(link, stream, err),
    );
    // The receiver sends headers once it has accepted our token: the stream is up.
    call.on('metadata', () => {
      if (link.stream === stream) link.consecutiveFailures = 0;
    });
    call.on('drain', () => {
      if (link.stream === stream) this.scheduleFlush(link);
    });
    call.on('error', (err) => this.logger.debug({ peer: link.id, err }, 'raft stream error'));
    stream.call = call;
    link.stream = stream;
    return stream;
  }

  private onStreamEnded(link: PeerLink, stream: OutboundStream, err: unknown): void {
    if (link.stream !== stream) return; // replaced by setPeer, removePeer or close
    link.stream = undefined;
    if (this.closed || this.links.get(link.id) !== link) return;
    this.streamFailed(link, err);
  }

  private streamFailed(link: PeerLink, err: unknown): void {
    const lost = this.dropQueue(link);
    link.consecutiveFailures++;
    const level = link.consecutiveFailures === 1 ? 'warn' : 'debug';
    const failures = link.consecutiveFailures;
    this.logger[level](
      { peer: link.id, address: link.address, ...errorDetails(err), droppedMessages: lost, failures },
      'raft stream to peer failed',
    );
    this.scheduleRetry(link);
    this.notifyUnreachable(link.id);
  }

  private scheduleRetry(link: PeerLink): void {
    const { min, max } = this.settings.reconnectBackoffMs;
    const exponent = Math.min(link.consecutiveFailures - 1, 30);
    const ceilingMs = Math.min(max, min * 2 ** exponent);
    // Jitter keeps routers that lost the same peer from reconnecting in lockstep.
    const delayMs = ceilingMs / 2 + Math.random() * (ceilingMs / 2);
    link.retryTimer = setTimeout(() => {
      link.retryTimer = undefined;
      this.pump(link);
    }, delayMs);
    link.retryTimer.unref();
  }

  private notifyUnreachable(peer: NodeId): void {
    try {
      this.unreachableHandler?.(peer);
    } catch (err) {
      this.logger.error({ err, peer }, 'onUnreachable handler threw');
    }
  }

  /** Queued messages are stale once their stream failed; the core resends after onUnreachable. */
  private dropQueue(link: PeerLink): number {
    const lost = link.queue.length;
    this.stats.dropped += lost;
    link.queue = [];
    link.queuedBytes = 0;
    return lost;
  }

  private disconnect(link: PeerLink): void {
    if (link.retryTimer !== undefined) clearTimeout(link.retryTimer);
    link.retryTimer = undefined;
    const stream = link.stream;
    link.stream = undefined;
    stream?.call?.cancel();
    link.client?.close();
    link.client = undefined;
  }

  /** Asks a peer for its node id: checks reachability, the token, and that the address belongs to `peer`. */
  probe(peer: NodeId, timeoutMs = 1_000): Promise<NodeId> {
    const link = this.closed ? undefined : this.links.get(peer);
    if (link === undefined) return Promise.reject(new Error(`no address for peer ${peer}`));
    const metadata = new grpc.Metadata();
    metadata.set('authorization', this.settings.authorizationHeader);
    return new Promise((resolve, reject) => {
      const client = this.clientFor(link); // a throw here rejects the promise
      client.makeUnaryRequest<Uint8Array, Buffer>(
        transportMethodPaths().probe,
        toBuffer,
        identity,
        new Uint8Array(0),
        metadata,
        { deadline: Date.now() + timeoutMs },
        (err, response) => {
          if (err || response === undefined) reject(err ?? new Error('empty probe response'));
          else GrpcTransport.settleProbe(response, resolve, reject);
        },
      );
    });
  }

  private static settleProbe(response: Buffer, resolve: (id: NodeId) => void, reject: (err: unknown) => void): void {
    try {
      resolve(decodeProbeResponse(response));
    } catch (err) {
      reject(err);
    }
  }

  // ------------------------------------------------------------ receiving

  /** Registers the RaftTransport service on a server the caller owns; create it with raftServerOptions(). */
  addToServer(server: grpc.Server): void {
    const paths = transportMethodPaths();
    const passthrough = {
      requestSerialize: toBuffer,
      requestDeserialize: identity,
      responseSerialize: toBuffer,
      responseDeserialize: identity,
    };
    server.addService(
      {
        Send: { path: paths.send, requestStream: true, responseStream: false, ...passthrough },
        Probe: { path: paths.probe, requestStream: false, responseStream: false, ...passthrough },
      },
      {
        Send: (call: InboundCall, callback: UnaryCallback) => this.handleSend(call, callback),
        Probe: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: UnaryCallback) => this.handleProbe(call, callback),
      },
    );
  }

  /** Serves on a server of its own (tests, the demo). Resolves to the bound port. */
  listen(address: string, credentials: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure()): Promise<number> {
    if (this.closed) return Promise.reject(new Error('transport is closed'));
    if (this.ownedServer !== undefined) return Promise.reject(new Error('transport is already listening'));
    const server = new grpc.Server(raftServerOptions(this.settings.maxMessageBytes));
    this.addToServer(server);
    this.ownedServer = server;
    return new Promise((resolve, reject) => {
      server.bindAsync(address, credentials, (err, port) => {
        if (err === null) return resolve(port);
        if (this.ownedServer === server) this.ownedServer = undefined;
        server.forceShutdown();
        reject(err);
      });
    });
  }

  private isAuthorized(metadata: grpc.Metadata): boolean {
    const values = metadata.get('authorization');
    const [value] = values;
    if (values.length !== 1 || typeof value !== 'string') return false;
    // Hashing first gives equal lengths, so the comparison time says nothing about the token.
    return timingSafeEqual(sha256(value), this.settings.expectedAuthDigest);
  }

  private refuse(call: InboundCallHead, callback: UnaryCallback): boolean {
    if (this.closed) {
      callback({ code: grpc.status.UNAVAILABLE, details: 'raft transport is closed' });
      return true;
    }
    if (this.isAuthorized(call.metadata)) return false;
    this.stats.rejectedStreams++;
    this.logger.warn({ peer: call.getPeer() }, 'refused raft call: missing or wrong internal token');
    callback({ code: grpc.status.UNAUTHENTICATED, details: 'missing or wrong internal token' });
    return true;
  }

  private handleProbe(call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: UnaryCallback): void {
    if (this.refuse(call, callback)) return;
    callback(null, toBuffer(encodeProbeResponse(this.selfId)));
  }

  private handleSend(call: InboundCall, callback: UnaryCallback): void {
    if (this.refuse(call, callback)) return;
    const inbound: InboundStream = { call, callback, received: 0, decodeErrors: 0, done: false };
    this.inbound.add(inbound);
    call.sendMetadata(new grpc.Metadata());
    call.on('data', (batch: Buffer) => this.receiveBatch(inbound, batch));
    call.on('end', () => this.endInbound(inbound, null));
    call.on('cancelled', () => this.forgetInbound(inbound));
    call.on('error', () => this.forgetInbound(inbound));
  }

  private receiveBatch(inbound: InboundStream, batch: Buffer): void {
    if (inbound.done || this.closed) return;
    try {
      const decoded = decodeBatch(batch, this.settings.decodeLimits);
      for (const err of decoded.errors) this.noteDecodeError(inbound, err);
      for (const m of decoded.messages) this.deliver(inbound, m);
    } catch (err) {
      this.noteDecodeError(inbound, err);
    }
  }

  private deliver(inbound: InboundStream, m: Message): void {
    if (m.to !== this.selfId) {
      this.stats.misaddressed++;
      this.logger.warn({ peer: inbound.call.getPeer(), from: m.from, to: m.to }, 'dropped raft message for another node');
      return;
    }
    this.stats.received++;
    inbound.received++;
    try {
      this.messageHandler?.(m);
    } catch (err) {
      this.logger.error({ err, from: m.from, type: m.type }, 'raft message handler threw');
    }
  }

  private noteDecodeError(inbound: InboundStream, err: unknown): void {
    this.stats.decodeErrors++;
    // A broken peer repeats itself; one line per stream is enough, the counter has the rest.
    if (inbound.decodeErrors++ > 0) return;
    const field = err instanceof TransportDecodeError ? err.field : undefined;
    this.logger.warn({ peer: inbound.call.getPeer(), field, err }, 'dropped undecodable raft message');
  }

  private endInbound(inbound: InboundStream, error: grpc.ServerErrorResponse | null): void {
    if (inbound.done) return;
    this.forgetInbound(inbound);
    if (error !== null) inbound.callback(error);
    else inbound.callback(null, toBuffer(encodeStreamSummary(inbound.received)));
  }

  private forgetInbound(inbound: InboundStream): void {
    inbound.done = true;
    this.inbound.delete(inbound);
  }

  // ------------------------------------------------------------ shutdown

  /** Ends every stream, timer and connection, and the server if listen() made one. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const link of this.links.values()) {
      this.disconnect(link);
      this.dropQueue(link);
    }
    this.links.clear();
    const closing = Object.assign(new Error('raft transport closed'), {
      code: grpc.status.UNAVAILABLE,
      details: 'raft transport closed',
    });
    for (const inbound of [...this.inbound]) this.endInbound(inbound, closing);
    this.ownedServer?.forceShutdown();
    this.ownedServer = undefined;
  }
}

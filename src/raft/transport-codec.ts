// The wire form of Raft messages (proto/praefect/raft.proto). Peers are
// authenticated but still untrusted input: a bug or a version skew on the
// other side must cost us one dropped message, never a crash or an unbounded
// allocation. So decoding validates every field and bounds every repeated one
// before protobufjs builds objects for it.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { RaftError } from './core/errors.js';
import { EMPTY_BYTES } from './core/types.js';
import type { Entry, EntryType, Message, MessageType, NodeId, SnapshotChunk } from './core/types.js';

const PROTO_RELATIVE_PATH = join('proto', 'praefect', 'raft.proto');
const PACKAGE = 'praefect.raft';

/** A field of a received message that cannot become a core `Message`. */
export class TransportDecodeError extends RaftError {
  override readonly name = 'TransportDecodeError';
  readonly code = 'RAFT_TRANSPORT_DECODE';
  readonly retryable = false;
  constructor(readonly field: string, detail: string) {
    super(`cannot decode raft message: ${field}: ${detail}`);
  }
}

/** A core `Message` that must not or cannot go over the wire. */
export class TransportEncodeError extends RaftError {
  override readonly name = 'TransportEncodeError';
  readonly code = 'RAFT_TRANSPORT_ENCODE';
  readonly retryable = false;
  constructor(readonly field: string, detail: string) {
    super(`cannot encode raft message: ${field}: ${detail}`);
  }
}

export interface DecodeLimits {
  readonly maxEntriesPerMessage: number;
  readonly maxEntriesPerBatch: number;
  readonly maxMessagesPerBatch: number;
  /** Read contexts and the 'transfer' marker are tiny; anything large is a bug. */
  readonly maxContextBytes: number;
  /** Bounds voters + learners before decoding, across repeated snapshot fields. */
  readonly maxSnapshotMetaBytes: number;
  readonly maxMembers: number;
}

// Each bound is far above what a sane peer sends and far below what would
// hurt: an empty entry is 2 bytes on the wire but ~100 bytes as an object.
export const DEFAULT_DECODE_LIMITS: DecodeLimits = {
  maxEntriesPerMessage: 65_536,
  maxEntriesPerBatch: 262_144,
  maxMessagesPerBatch: 8_192,
  maxContextBytes: 4_096,
  maxSnapshotMetaBytes: 65_536,
  maxMembers: 1_024,
};

/** Core message types that may cross the network; the rest stay inside one node. */
const WIRE_MESSAGE_TYPES: readonly MessageType[] = [
  'app',
  'appResp',
  'vote',
  'voteResp',
  'preVote',
  'preVoteResp',
  'snap',
  'snapResp',
  'heartbeat',
  'heartbeatResp',
  'readIndex',
  'readIndexResp',
  'transferLeader',
  'timeoutNow',
  // Proposal forwarding (DESIGN §4) sends proposals to the leader, even
  // though types.ts lists 'prop' among the local types.
  'prop',
];
const ENTRY_TYPES: readonly EntryType[] = ['normal', 'confChange'];

interface Schema {
  readonly message: protobuf.Type;
  readonly streamSummary: protobuf.Type;
  readonly probeResponse: protobuf.Type;
  readonly messageTypeToWire: ReadonlyMap<MessageType, number>;
  readonly messageTypeFromWire: ReadonlyMap<number, MessageType>;
  readonly entryTypeToWire: ReadonlyMap<EntryType, number>;
  readonly entryTypeFromWire: ReadonlyMap<number, EntryType>;
  readonly batchMessagesField: number;
  readonly entriesField: number;
  readonly snapshotField: number;
  readonly snapshotMetaField: number;
  readonly servicePath: string;
}

let loadedSchema: Schema | undefined;

/** The .proto path. Compiled code runs from dist/src/raft, sources from src/raft: search upwards. */
export function raftProtoPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, PROTO_RELATIVE_PATH);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find ${PROTO_RELATIVE_PATH} above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** 'appResp' -> 'APP_RESP', the proto enum naming convention. */
function screamingSnake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
}

/** The enum numbers come from the .proto, so the two can never disagree silently. */
function enumMapping<T extends string>(
  root: protobuf.Root,
  enumName: string,
  prefix: string,
  coreNames: readonly T[],
): [Map<T, number>, Map<number, T>] {
  const values = root.lookupEnum(`${PACKAGE}.${enumName}`).values;
  const toWire = new Map<T, number>();
  const fromWire = new Map<number, T>();
  for (const name of coreNames) {
    const wire = values[`${prefix}${screamingSnake(name)}`];
    if (wire === undefined || wire === 0) throw new Error(`raft.proto ${enumName} has no value for '${name}'`);
    toWire.set(name, wire);
    fromWire.set(wire, name);
  }
  return [toWire, fromWire];
}

function fieldId(type: protobuf.Type, name: string): number {
  const field = type.fields[name];
  if (field === undefined) throw new Error(`raft.proto ${type.name} has no field '${name}'`);
  return field.id;
}

function loadSchema(): Schema {
  const root = protobuf.loadSync(raftProtoPath());
  const message = root.lookupType(`${PACKAGE}.RaftMessage`);
  const chunk = root.lookupType(`${PACKAGE}.SnapshotChunk`);
  const service = root.lookupService(`${PACKAGE}.RaftTransport`);
  const [messageTypeToWire, messageTypeFromWire] = enumMapping(root, 'MessageType', 'MESSAGE_TYPE_', WIRE_MESSAGE_TYPES);
  const [entryTypeToWire, entryTypeFromWire] = enumMapping(root, 'EntryType', 'ENTRY_TYPE_', ENTRY_TYPES);
  return {
    message,
    streamSummary: root.lookupType(`${PACKAGE}.StreamSummary`),
    probeResponse: root.lookupType(`${PACKAGE}.ProbeResponse`),
    messageTypeToWire,
    messageTypeFromWire,
    entryTypeToWire,
    entryTypeFromWire,
    batchMessagesField: fieldId(root.lookupType(`${PACKAGE}.RaftBatch`), 'messages'),
    entriesField: fieldId(message, 'entries'),
    snapshotField: fieldId(message, 'snapshot'),
    snapshotMetaField: fieldId(chunk, 'meta'),
    servicePath: `/${PACKAGE}.${service.name}`,
  };
}

function schema(): Schema {
  loadedSchema ??= loadSchema();
  return loadedSchema;
}

/** gRPC method paths of the RaftTransport service. */
export function transportMethodPaths(): { readonly send: string; readonly probe: string } {
  const base = schema().servicePath;
  return { send: `${base}/Send`, probe: `${base}/Probe` };
}

// ---------------------------------------------------------------- encoding

function wireUint(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new TransportEncodeError(field, `${value} is not a non-negative safe integer`);
  }
  return value;
}

function wireNodeId(value: NodeId, field: string): number {
  if (wireUint(value, field) === 0) throw new TransportEncodeError(field, 'node id 0 means nobody');
  return value;
}

function wireBytes(value: Uint8Array, field: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TransportEncodeError(field, 'not a Uint8Array');
  return value;
}

function wireEntry(entry: Entry, i: number): Record<string, unknown> {
  const field = `entries[${i}]`;
  const type = schema().entryTypeToWire.get(entry.type);
  if (type === undefined) throw new TransportEncodeError(`${field}.type`, `unknown entry type '${String(entry.type)}'`);
  return {
    term: wireUint(entry.term, `${field}.term`),
    index: wireUint(entry.index, `${field}.index`),
    type,
    data: wireBytes(entry.data, `${field}.data`),
  };
}

function wireSnapshot(chunk: SnapshotChunk): Record<string, unknown> {
  const { meta } = chunk;
  return {
    meta: {
      index: wireUint(meta.index, 'snapshot.meta.index'),
      term: wireUint(meta.term, 'snapshot.meta.term'),
      voters: meta.confState.voters.map((id, i) => wireNodeId(id, `snapshot.meta.voters[${i}]`)),
      learners: meta.confState.learners.map((id, i) => wireNodeId(id, `snapshot.meta.learners[${i}]`)),
    },
    offset: wireUint(chunk.offset, 'snapshot.offset'),
    data: wireBytes(chunk.data, 'snapshot.data'),
    totalBytes: wireUint(chunk.totalBytes, 'snapshot.totalBytes'),
  };
}

/** Encodes one message; throws TransportEncodeError for local types and invalid numbers. */
export function encodeMessage(m: Message): Uint8Array {
  const s = schema();
  const type = s.messageTypeToWire.get(m.type);
  if (type === undefined) throw new TransportEncodeError('type', `'${String(m.type)}' is not sent over the network`);
  const fields: Record<string, unknown> = {
    type,
    from: wireNodeId(m.from, 'from'),
    to: wireNodeId(m.to, 'to'),
    term: wireUint(m.term, 'term'),
    logTerm: wireUint(m.logTerm, 'logTerm'),
    index: wireUint(m.index, 'index'),
    entries: m.entries.map(wireEntry),
    commit: wireUint(m.commit, 'commit'),
    reject: m.reject === true,
    rejectHint: wireUint(m.rejectHint, 'rejectHint'),
    context: wireBytes(m.context, 'context'),
  };
  if (m.snapshot !== undefined) fields['snapshot'] = wireSnapshot(m.snapshot);
  return s.message.encode(fields).finish();
}

/** Frames already-encoded messages as one RaftBatch, without re-encoding them. */
export function encodeBatch(encodedMessages: readonly Uint8Array[]): Uint8Array {
  const tag = (schema().batchMessagesField << 3) | 2;
  const writer = protobuf.Writer.create();
  for (const bytes of encodedMessages) writer.uint32(tag).bytes(bytes);
  return writer.finish();
}

/** Wire bytes one encoded message adds to a batch: tag plus length prefix plus body. */
export function batchFramedBytes(encodedMessageBytes: number): number {
  return 1 + varintBytes(encodedMessageBytes) + encodedMessageBytes;
}

function varintBytes(value: number): number {
  let bytes = 1;
  for (let v = value; v >= 0x80; v = Math.floor(v / 0x80)) bytes++;
  return bytes;
}

export function encodeStreamSummary(receivedMessages: number): Uint8Array {
  return schema().streamSummary.encode({ receivedMessages }).finish();
}

export function encodeProbeResponse(nodeId: NodeId): Uint8Array {
  return schema().probeResponse.encode({ nodeId }).finish();
}

export function decodeProbeResponse(bytes: Uint8Array): NodeId {
  const decoded = decodeWith(schema().probeResponse, bytes) as unknown as Record<string, unknown>;
  return nodeIdField(decoded['nodeId'], 'nodeId');
}

// ---------------------------------------------------------------- decoding

interface LongLike {
  readonly low: number;
  readonly high: number;
}

function isLongLike(value: unknown): value is LongLike {
  return typeof value === 'object' && value !== null && 'low' in value && 'high' in value;
}

/** uint64 arrives as a Long (or a number without long.js): both checked against 2^53. */
function uintField(value: unknown, field: string): number {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value >= 0) return value;
    throw new TransportDecodeError(field, `${value} is not a safe unsigned integer`);
  }
  if (isLongLike(value)) {
    const high = value.high >>> 0;
    if (high > 0x1f_ffff) throw new TransportDecodeError(field, 'exceeds Number.MAX_SAFE_INTEGER');
    return high * 0x1_0000_0000 + (value.low >>> 0);
  }
  throw new TransportDecodeError(field, 'missing or not an unsigned integer');
}

function nodeIdField(value: unknown, field: string): NodeId {
  const id = uintField(value, field);
  if (id === 0) throw new TransportDecodeError(field, 'missing (node id 0)');
  return id;
}

/** Copies out of the receive buffer so a small entry does not pin a whole batch in memory. */
function bytesField(value: unknown, field: string, maxBytes = Infinity): Uint8Array {
  // protobufjs leaves an absent bytes field at its prototype default, an empty array.
  if (Array.isArray(value) && value.length === 0) return EMPTY_BYTES;
  if (!(value instanceof Uint8Array)) throw new TransportDecodeError(field, 'not bytes');
  if (value.length > maxBytes) throw new TransportDecodeError(field, `${value.length} bytes, limit ${maxBytes}`);
  return value.length === 0 ? EMPTY_BYTES : new Uint8Array(value);
}

function arrayField(value: unknown, field: string, maxLength: number): readonly unknown[] {
  if (!Array.isArray(value)) throw new TransportDecodeError(field, 'not a list');
  if (value.length > maxLength) throw new TransportDecodeError(field, `${value.length} items, limit ${maxLength}`);
  return value;
}

function objectField(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null) throw new TransportDecodeError(field, 'missing');
  return value as Record<string, unknown>;
}

function enumField<T>(mapping: ReadonlyMap<number, T>, value: unknown, field: string): T {
  const mapped = typeof value === 'number' ? mapping.get(value) : undefined;
  if (mapped === undefined) {
    throw new TransportDecodeError(field, value === 0 ? 'missing' : `unknown value ${String(value)}`);
  }
  return mapped;
}

function entryFrom(raw: unknown, i: number): Entry {
  const field = `entries[${i}]`;
  const o = objectField(raw, field);
  return {
    term: uintField(o['term'], `${field}.term`),
    index: uintField(o['index'], `${field}.index`),
    type: enumField(schema().entryTypeFromWire, o['type'], `${field}.type`),
    data: bytesField(o['data'], `${field}.data`),
  };
}

function membersFrom(raw: unknown, field: string, limits: DecodeLimits): NodeId[] {
  return arrayField(raw, field, limits.maxMembers).map((id, i) => nodeIdField(id, `${field}[${i}]`));
}

function snapshotFrom(raw: unknown, limits: DecodeLimits): SnapshotChunk | undefined {
  if (raw === null || raw === undefined) return undefined;
  const o = objectField(raw, 'snapshot');
  const meta = objectField(o['meta'], 'snapshot.meta');
  const chunk: SnapshotChunk = {
    meta: {
      index: uintField(meta['index'], 'snapshot.meta.index'),
      term: uintField(meta['term'], 'snapshot.meta.term'),
      confState: {
        voters: membersFrom(meta['voters'], 'snapshot.meta.voters', limits),
        learners: membersFrom(meta['learners'], 'snapshot.meta.learners', limits),
      },
    },
    offset: uintField(o['offset'], 'snapshot.offset'),
    data: bytesField(o['data'], 'snapshot.data'),
    totalBytes: uintField(o['totalBytes'], 'snapshot.totalBytes'),
  };
  if (chunk.offset + chunk.data.length > chunk.totalBytes) {
    throw new TransportDecodeError('snapshot.data', 'chunk ends beyond totalBytes');
  }
  return chunk;
}

function messageFrom(o: Record<string, unknown>, limits: DecodeLimits): Message {
  const type = enumField(schema().messageTypeFromWire, o['type'], 'type');
  const snapshot = snapshotFrom(o['snapshot'], limits);
  if (type === 'snap' && snapshot === undefined) throw new TransportDecodeError('snapshot', "missing in a 'snap' message");
  return {
    type,
    from: nodeIdField(o['from'], 'from'),
    to: nodeIdField(o['to'], 'to'),
    term: uintField(o['term'], 'term'),
    logTerm: uintField(o['logTerm'], 'logTerm'),
    index: uintField(o['index'], 'index'),
    entries: arrayField(o['entries'], 'entries', limits.maxEntriesPerMessage).map(entryFrom),
    commit: uintField(o['commit'], 'commit'),
    reject: o['reject'] === true,
    rejectHint: uintField(o['rejectHint'], 'rejectHint'),
    context: bytesField(o['context'], 'context', limits.maxContextBytes),
    snapshot,
  };
}

/** protobufjs throws plain Errors on malformed input; give them the one error type callers expect. */
function asDecodeError(err: unknown, field: string): TransportDecodeError {
  if (err instanceof TransportDecodeError) return err;
  return new TransportDecodeError(field, err instanceof Error ? err.message : String(err));
}

function decodeWith(type: protobuf.Type, bytes: Uint8Array): protobuf.Message {
  try {
    return type.decode(bytes);
  } catch (err) {
    throw asDecodeError(err, 'wire');
  }
}

/**
 * Walks the top-level fields without building objects, so that entry counts
 * and snapshot membership sizes are bounded before protobufjs allocates.
 * Returns the number of entries. Fields with an unexpected wire type are
 * skipped here exactly as protobufjs skips them.
 */
function scanMessage(bytes: Uint8Array, limits: DecodeLimits): number {
  const s = schema();
  const reader = protobuf.Reader.create(bytes);
  let entries = 0;
  let metaBytes = 0;
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const id = tag >>> 3;
    const wireType = tag & 7;
    if (wireType === 2 && id === s.entriesField) {
      if (++entries > limits.maxEntriesPerMessage) {
        throw new TransportDecodeError('entries', `more than ${limits.maxEntriesPerMessage}`);
      }
      reader.skipType(wireType);
    } else if (wireType === 2 && id === s.snapshotField) {
      metaBytes += scanSnapshotMetaBytes(reader.bytes());
      if (metaBytes > limits.maxSnapshotMetaBytes) {
        throw new TransportDecodeError('snapshot.meta', `more than ${limits.maxSnapshotMetaBytes} bytes`);
      }
    } else {
      reader.skipType(wireType, 0, id);
    }
  }
  return entries;
}

function scanSnapshotMetaBytes(chunk: Uint8Array): number {
  const metaField = schema().snapshotMetaField;
  const reader = protobuf.Reader.create(chunk);
  let metaBytes = 0;
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if ((tag & 7) === 2 && tag >>> 3 === metaField) metaBytes += reader.bytes().length;
    else reader.skipType(tag & 7, 0, tag >>> 3);
  }
  return metaBytes;
}

function decodeScanned(bytes: Uint8Array, limits: DecodeLimits): Message {
  const decoded = decodeWith(schema().message, bytes);
  return messageFrom(decoded as unknown as Record<string, unknown>, limits);
}

/** Decodes one RaftMessage; throws only TransportDecodeError. */
export function decodeMessage(bytes: Uint8Array, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): Message {
  try {
    scanMessage(bytes, limits);
    return decodeScanned(bytes, limits);
  } catch (err) {
    throw asDecodeError(err, 'wire');
  }
}

export interface DecodedBatch {
  readonly messages: Message[];
  /** One per message that failed; the others in the batch are still good. */
  readonly errors: TransportDecodeError[];
}

function splitBatch(bytes: Uint8Array, limits: DecodeLimits): Uint8Array[] {
  const field = schema().batchMessagesField;
  const reader = protobuf.Reader.create(bytes);
  const parts: Uint8Array[] = [];
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if ((tag & 7) !== 2 || tag >>> 3 !== field) {
      reader.skipType(tag & 7, 0, tag >>> 3);
      continue;
    }
    if (parts.length === limits.maxMessagesPerBatch) {
      throw new TransportDecodeError('messages', `more than ${limits.maxMessagesPerBatch}`);
    }
    parts.push(reader.bytes());
  }
  return parts;
}

/**
 * Decodes a RaftBatch message by message, so one bad message costs only
 * itself. Throws TransportDecodeError when the batch framing itself is broken
 * or a batch-wide bound is exceeded.
 */
export function decodeBatch(bytes: Uint8Array, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): DecodedBatch {
  let parts: Uint8Array[];
  try {
    parts = splitBatch(bytes, limits);
  } catch (err) {
    throw asDecodeError(err, 'messages');
  }
  const messages: Message[] = [];
  const errors: TransportDecodeError[] = [];
  let entries = 0;
  for (const part of parts) {
    try {
      entries += scanMessage(part, limits);
      if (entries > limits.maxEntriesPerBatch) {
        throw new TransportDecodeError('entries', `batch holds more than ${limits.maxEntriesPerBatch}`);
      }
      messages.push(decodeScanned(part, limits));
    } catch (err) {
      errors.push(asDecodeError(err, 'wire'));
    }
  }
  return { messages, errors };
}

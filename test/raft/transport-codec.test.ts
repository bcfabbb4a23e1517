import t from 'tap';
import protobuf from 'protobufjs';
import { message } from '../../src/raft/core/types.js';
import type { Message, MessageType } from '../../src/raft/core/types.js';
import {
  DEFAULT_DECODE_LIMITS,
  TransportDecodeError,
  decodeBatch,
  decodeMessage,
  encodeBatch,
  encodeMessage,
  raftProtoPath,
} from '../../src/raft/transport-codec.js';

const WIRE_TYPES: readonly MessageType[] = [
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
  'prop',
];
const LOCAL_TYPES: readonly MessageType[] = ['hup', 'beat', 'checkQuorum', 'unreachable', 'snapStatus'];

const ALL_BYTE_VALUES = Uint8Array.from({ length: 256 }, (_, i) => i);

/** Every field set to something other than its default, so a dropped field shows. */
function fullMessage(type: MessageType): Message {
  return message({
    type,
    from: 3,
    to: Number.MAX_SAFE_INTEGER,
    term: 7,
    logTerm: 6,
    index: 2 ** 40 + 1,
    entries: [
      { term: 6, index: 2 ** 40 + 2, type: 'normal', data: ALL_BYTE_VALUES },
      { term: 7, index: 2 ** 40 + 3, type: 'confChange', data: new Uint8Array([0, 0, 0]) },
      { term: 7, index: 2 ** 40 + 4, type: 'normal', data: new Uint8Array(0) },
    ],
    commit: 2 ** 40,
    reject: true,
    rejectHint: 12,
    context: new TextEncoder().encode('transfer'),
    snapshot: {
      meta: { index: 99, term: 5, confState: { voters: [1, 2, 3], learners: [4] } },
      offset: 10,
      data: ALL_BYTE_VALUES,
      totalBytes: 266,
    },
  });
}

t.test('every network message type round-trips with all fields set', async (t) => {
  for (const type of WIRE_TYPES) {
    const m = fullMessage(type);
    t.strictSame(decodeMessage(encodeMessage(m)), m, type);
  }
});

t.test('a minimal message round-trips with defaults', async (t) => {
  for (const type of WIRE_TYPES.filter((w) => w !== 'snap')) {
    const m = message({ type, from: 1, to: 2 });
    t.strictSame(decodeMessage(encodeMessage(m)), m, type);
  }
});

t.test('a snapshot chunk with empty membership and data round-trips', async (t) => {
  const m = message({
    type: 'snap',
    from: 1,
    to: 2,
    term: 3,
    snapshot: {
      meta: { index: 0, term: 0, confState: { voters: [], learners: [] } },
      offset: 0,
      data: new Uint8Array(0),
      totalBytes: 0,
    },
  });
  t.strictSame(decodeMessage(encodeMessage(m)), m);
});

t.test('decoded bytes do not share memory with the receive buffer', async (t) => {
  const wire = encodeMessage(fullMessage('app'));
  const decoded = decodeMessage(wire);
  wire.fill(0);
  t.strictSame(decoded.entries[0]?.data, ALL_BYTE_VALUES);
});

t.test('batches keep order and isolate a bad message', async (t) => {
  const good = WIRE_TYPES.map(fullMessage);
  const garbage = new Uint8Array([0x08, 0x63]); // type = 99
  const parts = good.map(encodeMessage);
  parts.splice(3, 0, garbage);
  const batch = decodeBatch(encodeBatch(parts));
  t.strictSame(batch.messages, good);
  t.equal(batch.errors.length, 1);
  t.equal(batch.errors[0]?.field, 'type');
  t.strictSame(decodeBatch(encodeBatch([])), { messages: [], errors: [] });
});

t.test('batch-wide bounds and broken framing throw', async (t) => {
  const one = encodeMessage(message({ type: 'heartbeat', from: 1, to: 2 }));
  const limits = { ...DEFAULT_DECODE_LIMITS, maxMessagesPerBatch: 2 };
  t.throws(() => decodeBatch(encodeBatch([one, one, one]), limits), { name: 'TransportDecodeError', field: 'messages' });
  t.throws(() => decodeBatch(new Uint8Array([0x0a, 0x05, 0x01])), { field: 'messages', name: 'TransportDecodeError' });
  const entryLimits = { ...DEFAULT_DECODE_LIMITS, maxEntriesPerBatch: 4 };
  const withEntries = encodeMessage(fullMessage('app')); // 3 entries
  const batch = decodeBatch(encodeBatch([withEntries, withEntries]), entryLimits);
  t.equal(batch.messages.length, 1);
  t.equal(batch.errors[0]?.field, 'entries');
});

t.test('encoding refuses what must not go on the wire', async (t) => {
  for (const type of LOCAL_TYPES) {
    t.throws(() => encodeMessage(message({ type, from: 1, to: 2 })), { name: 'TransportEncodeError', field: 'type' }, type);
  }
  const base = message({ type: 'app', from: 1, to: 2 });
  const cases: [Partial<Message>, string][] = [
    [{ from: 0 }, 'from'],
    [{ to: 0 }, 'to'],
    [{ term: -1 }, 'term'],
    [{ commit: 1.5 }, 'commit'],
    [{ index: 2 ** 53 }, 'index'],
    [{ entries: [{ term: 1, index: 1, type: 'bogus' as never, data: new Uint8Array(0) }] }, 'entries[0].type'],
    [
      {
        snapshot: {
          meta: { index: 1, term: 1, confState: { voters: [0], learners: [] } },
          offset: 0,
          data: new Uint8Array(0),
          totalBytes: 0,
        },
      },
      'snapshot.meta.voters[0]',
    ],
  ];
  for (const [fields, field] of cases) {
    t.throws(() => encodeMessage({ ...base, ...fields }), { field, name: 'TransportEncodeError' }, field);
  }
});

t.test('decoding names the offending field', async (t) => {
  const root = protobuf.loadSync(raftProtoPath());
  const RaftMessage = root.lookupType('praefect.raft.RaftMessage');
  const raw = (fields: Record<string, unknown>): Uint8Array =>
    RaftMessage.encode({ type: 1, from: 1, to: 2, ...fields }).finish();
  const tooBig = { low: 0, high: 0x20_0000, unsigned: true }; // 2^53, as protobufjs takes a Long
  const meta = { index: 1, term: 1, voters: [1], learners: [] };
  const manyVoters = Array.from({ length: 2000 }, (_, i) => i + 1);
  const cases: [Record<string, unknown>, string][] = [
    [{ type: 0 }, 'type'],
    [{ type: 99 }, 'type'],
    [{ from: 0 }, 'from'],
    [{ to: 0 }, 'to'],
    [{ term: tooBig }, 'term'],
    [{ entries: [{ term: 1, index: 1, type: 0 }] }, 'entries[0].type'],
    [{ entries: [{ term: 1, index: 1, type: 1 }, { term: 1, index: tooBig, type: 1 }] }, 'entries[1].index'],
    [{ type: 7 }, 'snapshot'],
    [{ type: 7, snapshot: { offset: 0 } }, 'snapshot.meta'],
    [{ type: 7, snapshot: { meta: { ...meta, voters: [1, 0] } } }, 'snapshot.meta.voters[1]'],
    [{ type: 7, snapshot: { meta, offset: 5, data: new Uint8Array(10), totalBytes: 14 } }, 'snapshot.data'],
    [{ context: new Uint8Array(DEFAULT_DECODE_LIMITS.maxContextBytes + 1) }, 'context'],
    [{ type: 7, snapshot: { meta: { ...meta, voters: manyVoters } } }, 'snapshot.meta.voters'],
  ];
  for (const [fields, field] of cases) {
    t.throws(() => decodeMessage(raw(fields)), { field, name: 'TransportDecodeError' }, field);
  }
  const manyEntries = raw({ entries: Array.from({ length: 5 }, () => ({ term: 1, index: 1, type: 1 })) });
  t.throws(() => decodeMessage(manyEntries, { ...DEFAULT_DECODE_LIMITS, maxEntriesPerMessage: 4 }), {
    name: 'TransportDecodeError',
    field: 'entries',
  });
  const hugeMeta = raw({ type: 7, snapshot: { meta: { ...meta, voters: Array.from({ length: 20_000 }, () => 1) } } });
  t.throws(() => decodeMessage(hugeMeta), { name: 'TransportDecodeError', field: 'snapshot.meta' });
  t.throws(() => decodeMessage(raw({}).subarray(0, 3)), { name: 'TransportDecodeError', field: 'wire' });
});

t.test('unknown fields are skipped, for forward compatibility', async (t) => {
  const m = message({ type: 'heartbeat', from: 1, to: 2, term: 3 });
  const writer = protobuf.Writer.create();
  writer.uint32((99 << 3) | 2).bytes(new Uint8Array([1, 2, 3]));
  writer.uint32(99 << 3).uint64(5);
  const wire = new Uint8Array([...encodeMessage(m), ...writer.finish()]);
  t.strictSame(decodeMessage(wire), m);
});

// ---------------------------------------------------------------- fuzzing

/** mulberry32: small, seedable, good enough to scatter bytes. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBytes(random: () => number, maxLength: number): Uint8Array {
  return Uint8Array.from({ length: Math.floor(random() * maxLength) }, () => Math.floor(random() * 256));
}

function mutate(random: () => number, input: Uint8Array): Uint8Array {
  const bytes = Array.from(input);
  const edits = 1 + Math.floor(random() * 4);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(random() * (bytes.length + 1));
    const op = Math.floor(random() * 5);
    if (op === 0 && at < bytes.length) bytes[at] = (bytes[at] ?? 0) ^ (1 << Math.floor(random() * 8));
    else if (op === 1 && at < bytes.length) bytes[at] = Math.floor(random() * 256);
    else if (op === 2) bytes.splice(at, Math.floor(random() * 8));
    else if (op === 3) bytes.splice(at, 0, ...randomBytes(random, 8));
    else bytes.splice(at, 0, ...bytes.slice(at, at + Math.floor(random() * 16)));
  }
  return Uint8Array.from(bytes);
}

const SEEDS = [...WIRE_TYPES.map(fullMessage), message({ type: 'heartbeat', from: 1, to: 2 })].map(encodeMessage);

/**
 * Only a valid Message or a TransportDecodeError may come out, and a valid
 * one re-encodes to itself. Returns a failure, 'decoded' or 'rejected'.
 */
function checkDecoder(input: Uint8Array): string {
  let m: Message;
  try {
    m = decodeMessage(input);
  } catch (err) {
    return err instanceof TransportDecodeError ? 'rejected' : `threw ${String(err)}`;
  }
  try {
    const again = decodeMessage(encodeMessage(m));
    return JSON.stringify(again) === JSON.stringify(m) ? 'decoded' : 'decoded message does not round-trip';
  } catch (err) {
    return `decoded message does not re-encode: ${String(err)}`;
  }
}

function checkBatchDecoder(input: Uint8Array): string | undefined {
  try {
    const batch = decodeBatch(input);
    const bad = batch.errors.find((e) => !(e instanceof TransportDecodeError));
    return bad === undefined ? undefined : `batch error ${String(bad)}`;
  } catch (err) {
    return err instanceof TransportDecodeError ? undefined : `threw ${String(err)}`;
  }
}

t.test('fuzzed input yields a Message or a TransportDecodeError, nothing else', async (t) => {
  const seed = Number(process.env['FUZZ_SEED'] ?? Math.floor(Math.random() * 2 ** 32));
  t.comment(`fuzz seed ${seed} (replay with FUZZ_SEED=${seed})`);
  const random = prng(seed);
  const iterations = Number(process.env['FUZZ_ITERATIONS'] ?? 6000);
  let decoded = 0;
  const failures: string[] = [];
  for (let i = 0; i < iterations; i++) {
    const base = SEEDS[Math.floor(random() * SEEDS.length)] ?? new Uint8Array(0);
    const input = i % 3 === 0 ? randomBytes(random, 64) : mutate(random, base);
    const single = checkDecoder(input);
    if (single === 'decoded') decoded++;
    const failure =
      (single === 'decoded' || single === 'rejected' ? undefined : single) ??
      checkBatchDecoder(input) ??
      checkBatchDecoder(encodeBatch([input, base]));
    if (failure !== undefined) failures.push(`iteration ${i}: ${failure}: ${Buffer.from(input).toString('hex')}`);
  }
  t.strictSame(failures.slice(0, 5), [], `seed ${seed}`);
  t.ok(decoded > 0, `some mutations still decode (${decoded} of ${iterations})`);
});

import t from 'tap';
import type { Test } from 'tap';
import { spawn } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { message } from '../../src/raft/core/types.js';
import type { Message, NodeId } from '../../src/raft/core/types.js';
import { encodeBatch, encodeMessage, transportMethodPaths } from '../../src/raft/transport-codec.js';
import { GrpcTransport } from '../../src/raft/transport-grpc.js';
import type { GrpcTransportOptions } from '../../src/raft/transport-grpc.js';

const TOKEN = 'internal-secret';
const silent = pino({ level: 'silent' });
const FAST_BACKOFF = { min: 10, max: 100 };
const DEADLINE_MS = 10_000;

/** Polls `condition` until it holds; `poke` runs before each poll (e.g. to send again). */
async function waitFor(what: string, condition: () => boolean, poke: () => void = () => {}): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    poke();
    if (condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

interface Node {
  readonly transport: GrpcTransport;
  readonly port: number;
  readonly inbox: Message[];
  readonly unreachable: NodeId[];
}

async function startNode(
  t: Test,
  id: NodeId,
  options: Partial<GrpcTransportOptions> = {},
  address = '127.0.0.1:0',
): Promise<Node> {
  const transport = new GrpcTransport({
    selfId: id,
    internalToken: TOKEN,
    reconnectBackoffMs: FAST_BACKOFF,
    logger: silent,
    ...options,
  });
  const inbox: Message[] = [];
  const unreachable: NodeId[] = [];
  transport.onMessage((m) => inbox.push(m));
  transport.onUnreachable((peer) => unreachable.push(peer));
  t.teardown(() => transport.close());
  const port = await transport.listen(address);
  return { transport, port, inbox, unreachable };
}

function connect(nodes: readonly Node[]): void {
  for (const a of nodes) {
    for (const b of nodes) {
      if (a !== b) a.transport.setPeer(b.transport.selfId, `127.0.0.1:${b.port}`);
    }
  }
}

function app(from: NodeId, to: NodeId, index: number, data = new Uint8Array([index & 0xff, 0, 255])): Message {
  return message({
    type: 'app',
    from,
    to,
    term: 1,
    index,
    entries: [{ term: 1, index: index + 1, type: 'normal', data }],
  });
}

/** A port on which nothing listens: bind one, then let it go. */
async function deadPort(): Promise<number> {
  const server = new grpc.Server();
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  server.forceShutdown();
  return port;
}

t.test('three transports exchange messages in order per peer', async (t) => {
  const nodes = await Promise.all([1, 2, 3].map((id) => startNode(t, id)));
  connect(nodes);
  const perPair = 600;
  for (let i = 0; i < perPair; i += 50) {
    for (const a of nodes) {
      const out: Message[] = [];
      for (const b of nodes) {
        if (a === b) continue;
        for (let k = i; k < i + 50; k++) out.push(app(a.transport.selfId, b.transport.selfId, k));
      }
      a.transport.send(out);
    }
  }
  await waitFor('all messages', () => nodes.every((n) => n.inbox.length === 2 * perPair));
  for (const n of nodes) {
    for (const from of [1, 2, 3].filter((id) => id !== n.transport.selfId)) {
      const got = n.inbox.filter((m) => m.from === from);
      t.strictSame(
        got.map((m) => m.index),
        Array.from({ length: perPair }, (_, k) => k),
        `node ${n.transport.selfId} got node ${from}'s messages in order`,
      );
      t.strictSame(got[7], app(from, n.transport.selfId, 7), 'content survives the trip');
    }
    const c = n.transport.counters();
    t.equal(c.sent, 2 * perPair);
    t.equal(c.received, 2 * perPair);
    t.equal(c.dropped, 0);
    t.equal(c.reconnects, 0, 'one stream per peer');
  }
  t.equal(await nodes[0]!.transport.probe(2), 2, 'probe answers with the peer id');
});

t.test('batches are cut to the byte and entry bounds the receiver enforces', async (t) => {
  const options = { maxMessageBytes: 64 * 1024, decodeLimits: { maxEntriesPerBatch: 4 } };
  const [a, b] = await Promise.all([startNode(t, 1, options), startNode(t, 2, options)]);
  connect([a!, b!]);
  const payload = new Uint8Array(20 * 1024).fill(7);
  a!.transport.send(Array.from({ length: 10 }, (_, i) => app(1, 2, i, payload)));
  const tooManyEntries = { ...app(1, 2, 98), entries: Array.from({ length: 5 }, () => app(1, 2, 0).entries[0]!) };
  a!.transport.send([app(1, 2, 99, new Uint8Array(64 * 1024)), tooManyEntries]);
  await waitFor('ten large messages', () => b!.inbox.length === 10);
  t.strictSame(b!.inbox.map((m) => m.index), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  t.equal(a!.transport.counters().dropped, 2, 'the messages over the limits are dropped by the sender');
  t.equal(b!.transport.counters().decodeErrors, 0, 'the receiver refused nothing');
});

t.test('a wrong token is rejected and nothing is delivered', async (t) => {
  const good = await startNode(t, 1);
  const bad = await startNode(t, 2, { internalToken: 'not-the-secret' });
  connect([good, bad]);
  bad.transport.send([app(2, 1, 0)]);
  await waitFor('the refused stream to be reported', () => bad.unreachable.includes(1));
  t.ok(good.transport.counters().rejectedStreams >= 1);
  await t.rejects(bad.transport.probe(1), { code: grpc.status.UNAUTHENTICATED });
  t.equal(good.inbox.length, 0, 'nothing from the wrong token was delivered');
  t.equal(good.transport.counters().received, 0);
});

t.test('a peer that goes away and comes back on the same port receives again', async (t) => {
  const a = await startNode(t, 1);
  const b1 = await startNode(t, 2);
  connect([a, b1]);
  let next = 0;
  const sendOne = (): void => a.transport.send([app(1, 2, next++)]);
  await waitFor('first delivery', () => b1.inbox.length > 0, sendOne);
  await b1.transport.close();
  await waitFor('the failure to be reported', () => a.unreachable.includes(2), sendOne);
  const b2 = await startNode(t, 2, {}, `127.0.0.1:${b1.port}`);
  t.equal(b2.port, b1.port);
  await waitFor('delivery after reconnect', () => b2.inbox.length > 0, sendOne);
  const c = a.transport.counters();
  t.ok(c.reconnects >= 1, `reconnected (${c.reconnects} reconnects)`);
  const indexes = b2.inbox.map((m) => m.index);
  t.strictSame(indexes, [...indexes].sort((x, y) => x - y), 'still in order on the new stream');
});

t.test('the per-peer queue is bounded: excess is dropped and counted', async (t) => {
  const a = await startNode(t, 1, { maxQueuedMessagesPerPeer: 10 });
  a.transport.setPeer(2, `127.0.0.1:${await deadPort()}`);
  a.transport.send(Array.from({ length: 25 }, (_, i) => app(1, 2, i)));
  t.equal(a.transport.counters().dropped, 15, 'dropped at once, send() did not block');
  await waitFor('the failure to be reported', () => a.unreachable.includes(2));
  const c = a.transport.counters();
  t.equal(c.sent + c.dropped, 25, 'every message is either written or counted as dropped');

  const bytesBound = await startNode(t, 3, { maxQueuedBytesPerPeer: 2_500 });
  bytesBound.transport.setPeer(2, `127.0.0.1:${await deadPort()}`);
  bytesBound.transport.send(Array.from({ length: 5 }, (_, i) => app(3, 2, i, new Uint8Array(1_000))));
  t.equal(bytesBound.transport.counters().dropped, 3, 'the byte bound holds too');
});

t.test('send() never throws: unknown peers and local messages are dropped', async (t) => {
  const a = await startNode(t, 1);
  a.transport.send([
    app(1, 9, 0),
    message({ type: 'hup', from: 1, to: 1 }),
    message({ type: 'app', from: 1, to: 9, term: -1 }),
  ]);
  t.equal(a.transport.counters().dropped, 3);
});

t.test('onUnreachable fires on every failed attempt, with backoff between them', async (t) => {
  const a = await startNode(t, 1);
  a.transport.setPeer(2, `127.0.0.1:${await deadPort()}`);
  await waitFor('two failed attempts', () => a.unreachable.length >= 2, () => a.transport.send([app(1, 2, 0)]));
  t.ok(a.unreachable.every((id) => id === 2));
  a.transport.setPeer(3, 'not a host');
  const sendTo3 = (): void => a.transport.send([app(1, 3, 0)]);
  await waitFor('an unresolvable address to be reported', () => a.unreachable.includes(3), sendTo3);
});

t.test('setPeer moves a peer to a new address', async (t) => {
  const [a, b] = await Promise.all([startNode(t, 1), startNode(t, 2)]);
  a!.transport.setPeer(2, `127.0.0.1:${await deadPort()}`);
  a!.transport.setPeer(2, `127.0.0.1:${b!.port}`);
  await waitFor('delivery at the new address', () => b!.inbox.length > 0, () => a!.transport.send([app(1, 2, 0)]));
  a!.transport.removePeer(2);
  a!.transport.send([app(1, 2, 1)]);
  t.equal(a!.transport.counters().dropped, 1, 'a removed peer gets nothing');
});

t.test('messages for another node id are not delivered', async (t) => {
  const [a, b] = await Promise.all([startNode(t, 1), startNode(t, 2)]);
  a!.transport.setPeer(3, `127.0.0.1:${b!.port}`); // misconfigured: node 2 listens there
  const sendTo3 = (): void => a!.transport.send([app(1, 3, 0)]);
  await waitFor('misaddressed count', () => b!.transport.counters().misaddressed > 0, sendTo3);
  t.equal(b!.inbox.length, 0);
  t.equal(await a!.transport.probe(3), 2, 'probe exposes the misconfiguration');
});

t.test('undecodable messages are dropped without killing the stream', async (t) => {
  const b = await startNode(t, 2);
  const client = new grpc.Client(`127.0.0.1:${b.port}`, grpc.credentials.createInsecure());
  t.teardown(() => client.close());
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${TOKEN}`);
  const summary = new Promise<Buffer | undefined>((resolve, reject) => {
    const call = client.makeClientStreamRequest<Uint8Array, Buffer>(
      transportMethodPaths().send,
      (bytes) => Buffer.from(bytes),
      (bytes) => bytes,
      metadata,
      {},
      (err, response) => (err ? reject(err) : resolve(response)),
    );
    const bogusType = new Uint8Array([0x08, 0x63, 0x10, 0x01, 0x18, 0x02]);
    call.write(encodeBatch([bogusType, encodeMessage(app(1, 2, 0))]));
    call.write(new Uint8Array([0x0a, 0x7f, 0x00])); // broken framing: the whole batch goes
    call.write(encodeBatch([encodeMessage(app(1, 2, 1))]));
    call.end();
  });
  t.ok(await summary, 'the stream ended normally with a summary');
  t.strictSame(b.inbox.map((m) => m.index), [0, 1]);
  t.equal(b.transport.counters().decodeErrors, 2);
});

/** The tap loader that lets a child node process import our .ts sources. */
function typescriptImportArgs(): string[] {
  return process.execArgv.filter((arg) => arg.includes('@tapjs/typescript'));
}

t.test('close() leaves nothing that keeps the process alive', async (t) => {
  const transportUrl = new URL('../../src/raft/transport-grpc.ts', import.meta.url).href;
  const typesUrl = new URL('../../src/raft/core/types.ts', import.meta.url).href;
  const script = `
    const { GrpcTransport } = await import(${JSON.stringify(transportUrl)});
    const { message } = await import(${JSON.stringify(typesUrl)});
    const pino = (await import('pino')).default;
    const logger = pino({ level: 'silent' });
    const opts = (id) => ({ selfId: id, internalToken: 't', logger, reconnectBackoffMs: { min: 5000, max: 5000 } });
    const a = new GrpcTransport(opts(1));
    const b = new GrpcTransport(opts(2));
    const pa = await a.listen('127.0.0.1:0');
    const pb = await b.listen('127.0.0.1:0');
    a.setPeer(2, '127.0.0.1:' + pb);
    b.setPeer(1, '127.0.0.1:' + pa);
    a.setPeer(3, '127.0.0.1:1'); // a peer in backoff: its retry timer must go too
    let got = 0;
    await new Promise((resolve) => {
      b.onMessage(() => { got++; resolve(); });
      a.send([message({ type: 'heartbeat', from: 1, to: 2 }), message({ type: 'heartbeat', from: 1, to: 3 })]);
    });
    await a.close();
    await b.close();
    console.log('delivered ' + got);
  `;
  const child = spawn(process.execPath, [...typescriptImportArgs(), '--input-type=module', '-e', script], {
    cwd: new URL('../..', import.meta.url),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(killer);
  t.equal(code, 0, `child exited by itself: ${output}`);
  t.match(output, /delivered 1/);
});

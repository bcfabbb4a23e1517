// The secondaries of a fanned-out call, against real grpc-js servers on
// loopback: each gets the whole request stream; a secondary that does not
// keep up, or that outlives the primary by settleMs, is cut off without
// holding the client back; every end is reported once.
import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import { gitalyProtocol } from '../../src/protocol/index.js';
import { ChannelPool } from '../../src/proxy/channel-pool.js';
import { FirstMessageCodec } from '../../src/proxy/first-message.js';
import type { FanOut } from '../../src/proxy/index.js';
import { SecondaryCalls } from '../../src/proxy/secondary-calls.js';
import { InternalTokens } from '../../src/proxy/upstream-metadata.js';

const PATH = '/gitaly.SmartHTTPService/PostReceivePack';
const method = gitalyProtocol().registry.get(PATH)!;
const identity = (b: Buffer): Buffer => b;

type Behaviour = 'drain' | 'stall' | 'hang';

/** A node whose PostReceivePack reads everything and answers OK (drain), never reads (stall), or reads but never answers (hang). */
async function startNode(behaviour: Behaviour): Promise<{ address: string; received: () => number; close: () => void }> {
  let bytes = 0;
  const server = new grpc.Server();
  const definition = { PostReceivePack: { path: PATH, requestStream: true, responseStream: true, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity } };
  server.addService(definition, {
    PostReceivePack: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      if (behaviour === 'stall') {
        call.pause();
        return;
      }
      call.on('data', (chunk: Buffer) => (bytes += chunk.length));
      call.on('end', () => {
        if (behaviour === 'drain') call.end();
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return { address: `127.0.0.1:${port}`, received: () => bytes, close: () => server.forceShutdown() };
}

function fanOut(nodes: Record<string, string>, ended: Array<[string, grpc.status]>, settleMs = 5_000, maxBufferedBytes = 1 << 20): FanOut {
  return {
    primary: 'primary',
    secondaries: Object.entries(nodes).map(([name, address]) => ({ name, target: { address } })),
    onNodeEnd: (name, status) => ended.push([name, status.code]),
    settleMs,
    maxBufferedBytes,
  };
}

t.test('secondary calls', async (t) => {
  const pool = new ChannelPool({ maxMessageBytes: 64 << 20 });
  const ctx = { pool, tokens: new InternalTokens(), codec: new FirstMessageCodec(gitalyProtocol().root) };
  t.teardown(() => pool.close());
  const first = Buffer.from(gitalyProtocol().root.lookupType('gitaly.PostReceivePackRequest').encode({ data: Buffer.from('first') }).finish());

  t.test('every secondary gets the whole stream and reports its status once', async (t) => {
    const a = await startNode('drain');
    const b = await startNode('drain');
    t.teardown(() => [a, b].forEach((n) => n.close()));
    const ended: Array<[string, grpc.status]> = [];
    const calls = new SecondaryCalls(ctx, method, fanOut({ a: a.address, b: b.address }, ended));
    calls.open(new grpc.Metadata(), Infinity, first);
    for (let i = 0; i < 10; i++) calls.write(Buffer.alloc(1000, i));
    calls.end();
    const statuses = await calls.settled();
    t.same([...statuses].map(([name, s]) => [name, s.code]).sort(), [['a', grpc.status.OK], ['b', grpc.status.OK]]);
    t.same(ended.sort(), [['a', grpc.status.OK], ['b', grpc.status.OK]], 'onNodeEnd once per secondary');
    t.equal(a.received(), b.received(), 'both got the same bytes');
    t.ok(a.received() >= 10_000, `the whole stream arrived (${a.received()} bytes)`);
  });

  t.test('a secondary that does not read is cut off once its unsent bytes pass the bound', async (t) => {
    const stalled = await startNode('stall');
    t.teardown(() => stalled.close());
    const ended: Array<[string, grpc.status]> = [];
    const calls = new SecondaryCalls(ctx, method, fanOut({ slow: stalled.address }, ended, 5_000, 256 * 1024));
    calls.open(new grpc.Metadata(), Infinity, first);
    const chunk = Buffer.alloc(64 * 1024);
    for (let i = 0; i < 64 && ended.length === 0; i++) calls.write(chunk);
    const statuses = await calls.settled();
    t.equal(statuses.get('slow')?.code, grpc.status.CANCELLED);
    t.match(statuses.get('slow')?.details, /fell behind the client by more than 262144 bytes/, 'the status says why');
    t.same(ended, [['slow', grpc.status.CANCELLED]]);
  });

  t.test('a secondary still running settleMs after the primary ended is cut off', async (t) => {
    const hanging = await startNode('hang');
    t.teardown(() => hanging.close());
    const ended: Array<[string, grpc.status]> = [];
    const calls = new SecondaryCalls(ctx, method, fanOut({ late: hanging.address }, ended, 200));
    calls.open(new grpc.Metadata(), Infinity, first);
    calls.end();
    const started = Date.now();
    const statuses = await calls.settled();
    t.ok(Date.now() - started >= 190, 'it was given settleMs');
    t.match(statuses.get('late')?.details, /still running 200 ms after the primary ended/);
    t.same(ended, [['late', grpc.status.CANCELLED]]);
  });

  t.test('a secondary that cannot be reached fails without holding the others', async (t) => {
    const good = await startNode('drain');
    t.teardown(() => good.close());
    const ended: Array<[string, grpc.status]> = [];
    const calls = new SecondaryCalls(ctx, method, fanOut({ good: good.address, gone: '127.0.0.1:1' }, ended));
    calls.open(new grpc.Metadata(), Date.now() + 5_000, first);
    calls.end();
    const statuses = await calls.settled();
    t.equal(statuses.get('good')?.code, grpc.status.OK);
    t.equal(statuses.get('gone')?.code, grpc.status.UNAVAILABLE);
  });
});

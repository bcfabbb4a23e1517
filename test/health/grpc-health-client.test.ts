// GrpcHealthClient against an in-process grpc.health.v1 server on loopback:
// the v2 token it sends, the mapping of answers and failures, deadline and
// cancellation.
import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import { authenticateMetadata } from '../../src/auth/index.js';
import { GrpcHealthClient, HEALTH_SERVICE, type ProbeTarget } from '../../src/health/index.js';
import { requireService } from '../../src/protocol/index.js';

type Mode = 'SERVING' | 'NOT_SERVING' | 'hang' | 'fail';

interface FakeNode {
  readonly address: string;
  mode: Mode;
  readonly authResults: Array<string | null>;
  close(): Promise<void>;
}

async function fakeNode(token: string): Promise<FakeNode> {
  const server = new grpc.Server();
  const node: FakeNode = {
    address: '',
    mode: 'SERVING',
    authResults: [],
    close: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
  server.addService(requireService(HEALTH_SERVICE, 'server'), {
    Check: (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      node.authResults.push(authenticateMetadata(call.metadata, { token })?.details ?? null);
      if (node.mode === 'hang') return;
      if (node.mode === 'fail') return callback({ code: grpc.status.INTERNAL, details: 'boom' });
      callback(null, { status: node.mode });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return Object.assign(node, { address: `tcp://127.0.0.1:${port}` });
}

function target(address: string, token: string): ProbeTarget {
  return { virtualStorage: 'default', storage: 'g1', address, token };
}

const signal = (): AbortSignal => new AbortController().signal;

t.test('answers, tokens and failures', async (t) => {
  const node = await fakeNode('node-secret');
  const client = new GrpcHealthClient({ maxReconnectBackoffMs: 200 });
  t.teardown(async () => {
    client.close();
    await node.close();
  });

  t.same(await client.check(target(node.address, 'node-secret'), { timeoutMs: 2_000, signal: signal() }), { ok: true });
  t.same(node.authResults, [null], 'a valid v2 token for the node secret was sent');

  node.mode = 'NOT_SERVING';
  t.match(await client.check(target(node.address, 'node-secret'), { timeoutMs: 2_000, signal: signal() }), {
    ok: false,
    reason: 'not-serving',
    detail: 'status NOT_SERVING',
  });

  node.mode = 'fail';
  t.match(await client.check(target(node.address, 'node-secret'), { timeoutMs: 2_000, signal: signal() }), {
    ok: false,
    reason: 'error',
    detail: /INTERNAL: boom/,
  });

  node.mode = 'hang';
  t.match(await client.check(target(node.address, 'node-secret'), { timeoutMs: 150, signal: signal() }), { ok: false, reason: 'timeout' });

  const abort = new AbortController();
  const pending = client.check(target(node.address, 'node-secret'), { timeoutMs: 10_000, signal: abort.signal });
  abort.abort();
  t.match(await pending, { ok: false, reason: 'error', detail: /CANCELLED/ }, 'abort cancels the call');
  t.match(await client.check(target(node.address, 'x'), { timeoutMs: 1_000, signal: abort.signal }), { ok: false, detail: /cancelled before/ });
});

t.test('a node with no token gets no authorization header', async (t) => {
  const node = await fakeNode('required');
  const client = new GrpcHealthClient({ maxReconnectBackoffMs: 200 });
  t.teardown(async () => {
    client.close();
    await node.close();
  });
  await client.check(target(node.address, ''), { timeoutMs: 2_000, signal: signal() });
  t.match(node.authResults, [/missing/]);
});

t.test('a closed port is unavailable', async (t) => {
  const node = await fakeNode('');
  const address = node.address;
  await node.close();
  const client = new GrpcHealthClient({ maxReconnectBackoffMs: 200 });
  t.teardown(() => client.close());
  t.match(await client.check(target(address, ''), { timeoutMs: 2_000, signal: signal() }), { ok: false, reason: 'unavailable' });
});

// A real grpc-js unary call through a FaultProxy: DEADLINE_EXCEEDED while the
// link is blackholed, success after heal.
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { BLACKHOLE, FaultProxy, PASS, formatHostPort } from '../../../jepsen/net/index.js';

const identity = (value: Buffer): Buffer => value;
const echoMethod = {
  path: '/jepsen.test.Echo/Echo',
  requestStream: false,
  responseStream: false,
  requestSerialize: identity,
  requestDeserialize: identity,
  responseSerialize: identity,
  responseDeserialize: identity,
} as const;

async function startEchoService(): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  server.addService({ echo: echoMethod }, {
    echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, call.request),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return { server, port };
}

function callEcho(client: grpc.Client, payload: string, timeoutMs: number): Promise<{ code: grpc.status; reply?: string }> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      echoMethod.path,
      identity,
      identity,
      Buffer.from(payload),
      { deadline: Date.now() + timeoutMs },
      (error, reply) => resolve(error ? { code: error.code } : { code: grpc.status.OK, reply: reply?.toString() }),
    );
  });
}

t.test('gRPC: DEADLINE_EXCEEDED under blackhole, success after heal', async (t) => {
  const { server, port } = await startEchoService();
  const proxy = new FaultProxy({ name: 'client->server', target: { host: '127.0.0.1', port } });
  const address = await proxy.start();
  const client = new grpc.Client(formatHostPort(address), grpc.credentials.createInsecure());
  t.teardown(async () => {
    client.close();
    await proxy.close();
    server.forceShutdown();
  });

  t.same(await callEcho(client, 'before', 5000), { code: grpc.status.OK, reply: 'before' }, 'the call passes');
  proxy.setModes({ upstream: BLACKHOLE, downstream: BLACKHOLE });
  const started = Date.now();
  const cut = await callEcho(client, 'during', 500);
  t.equal(cut.code, grpc.status.DEADLINE_EXCEEDED, 'the call times out on the partitioned connection');
  t.ok(Date.now() - started >= 450, 'after waiting out its deadline');
  proxy.setModes({ upstream: PASS, downstream: PASS });
  // The channel may be reconnecting after the fault; retry until a deadline, as a client would.
  const deadline = Date.now() + 10_000;
  let healed = await callEcho(client, 'after', 2000);
  while (healed.code !== grpc.status.OK && Date.now() < deadline) healed = await callEcho(client, 'after', 2000);
  t.same(healed, { code: grpc.status.OK, reply: 'after' }, 'the call succeeds after heal');
  t.comment(`proxy stats: ${JSON.stringify(proxy.stats())}`);
});

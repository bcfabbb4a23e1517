// guardService and the client helpers against a real grpc-js server on
// 127.0.0.1, over a byte-passthrough service so no protos are needed.
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import {
  AuthCounter,
  authenticateMetadata,
  guardService,
  v2CallCredentials,
  v2TokenInterceptor,
  v2TokenMetadata,
  type ServerAuthOptions,
} from '../../src/auth/index.js';

const SECRET = 'grpc secret';
const passthrough = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };

function method(name: string, requestStream: boolean, responseStream: boolean): grpc.MethodDefinition<Buffer, Buffer> {
  return {
    path: `/test.Echo/${name}`,
    requestStream,
    responseStream,
    requestSerialize: passthrough.serialize,
    requestDeserialize: passthrough.deserialize,
    responseSerialize: passthrough.serialize,
    responseDeserialize: passthrough.deserialize,
  };
}

const definition: grpc.ServiceDefinition = {
  Unary: method('Unary', false, false),
  ServerStream: method('ServerStream', false, true),
  ClientStream: method('ClientStream', true, false),
  Bidi: method('Bidi', true, true),
};

const implementation: grpc.UntypedServiceImplementation = {
  Unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, call.request),
  ServerStream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
    call.write(call.request);
    call.end();
  },
  ClientStream: (call: grpc.ServerReadableStream<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
    const parts: Buffer[] = [];
    call.on('data', (b: Buffer) => parts.push(b));
    call.on('end', () => cb(null, Buffer.concat(parts)));
  },
  Bidi: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
    call.on('data', (b: Buffer) => call.write(b));
    call.on('end', () => call.end());
  },
};

const EchoClient = grpc.makeGenericClientConstructor(definition, 'Echo');

async function startServer(options: ServerAuthOptions): Promise<{ address: string; stop: () => Promise<void> }> {
  const server = new grpc.Server();
  server.addService(definition, guardService(definition, implementation, options));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { address: `127.0.0.1:${port}`, stop: () => new Promise((resolve) => server.tryShutdown(() => resolve())) };
}

type Outcome = { code: grpc.status; details: string; body?: string };

// Calls each kind of method once and reports its status.
function callAll(client: grpc.Client, metadata: grpc.Metadata, options: grpc.CallOptions = {}): Promise<Outcome[]> {
  const c = client as unknown as Record<string, (...args: unknown[]) => grpc.ClientReadableStream<Buffer> & grpc.ClientWritableStream<Buffer>>;
  const unaryDone = (resolve: (o: Outcome) => void) => (err: grpc.ServiceError | null, value?: Buffer) =>
    resolve(err ? { code: err.code, details: err.details } : { code: grpc.status.OK, details: '', body: value?.toString() });
  const streamDone = (stream: grpc.ClientReadableStream<Buffer>, resolve: (o: Outcome) => void) => {
    const parts: Buffer[] = [];
    stream.on('data', (b: Buffer) => parts.push(b));
    stream.on('error', (err: grpc.ServiceError) => resolve({ code: err.code, details: err.details }));
    stream.on('status', (s: grpc.StatusObject) => {
      if (s.code === grpc.status.OK) resolve({ code: s.code, details: '', body: Buffer.concat(parts).toString() });
    });
  };
  return Promise.all([
    new Promise<Outcome>((resolve) => c.Unary!(Buffer.from('u'), metadata, options, unaryDone(resolve))),
    new Promise<Outcome>((resolve) => streamDone(c.ServerStream!(Buffer.from('s'), metadata, options), resolve)),
    new Promise<Outcome>((resolve) => {
      const call = c.ClientStream!(metadata, options, unaryDone(resolve));
      call.write(Buffer.from('c'));
      call.end();
    }),
    new Promise<Outcome>((resolve) => {
      const call = c.Bidi!(metadata, options);
      streamDone(call, resolve);
      call.write(Buffer.from('b'));
      call.end();
    }),
  ]);
}

t.test('all four call kinds are refused without a token and served with one', async (t) => {
  const counter = new AuthCounter();
  const server = await startServer({ token: SECRET, observe: counter.observe });
  t.teardown(server.stop);
  const client = new EchoClient(server.address, grpc.credentials.createInsecure());
  t.teardown(() => client.close());

  const refused = await callAll(client, new grpc.Metadata());
  for (const outcome of refused) {
    t.equal(outcome.code, grpc.status.UNAUTHENTICATED);
    t.match(outcome.details, /authentication failed: missing/);
  }
  const served = await callAll(client, v2TokenMetadata(SECRET, Math.floor(Date.now() / 1000)));
  t.same(served.map((o) => [o.code, o.body]), [[0, 'u'], [0, 's'], [0, 'c'], [0, 'b']]);
  t.equal(counter.get(true, 'unauthenticated'), 4);
  t.equal(counter.get(true, 'ok'), 4);
});

t.test('a wrong secret and a stale token are denied with a precise reason', async (t) => {
  const counter = new AuthCounter();
  const server = await startServer({ token: SECRET, observe: counter.observe, clock: () => 1_700_000_000 });
  t.teardown(server.stop);
  const client = new EchoClient(server.address, grpc.credentials.createInsecure());
  t.teardown(() => client.close());

  const wrong = await callAll(client, v2TokenMetadata('not the secret', 1_700_000_000));
  t.ok(wrong.every((o) => o.code === grpc.status.PERMISSION_DENIED && /signature mismatch/.test(o.details)));
  t.ok(wrong.every((o) => !o.details.includes(SECRET)), 'the secret is never echoed');
  const stale = await callAll(client, v2TokenMetadata(SECRET, 1_700_000_000 - 31));
  t.ok(stale.every((o) => o.code === grpc.status.PERMISSION_DENIED && /expired/.test(o.details)));
  t.equal(counter.get(true, 'denied'), 8);
});

t.test('the client interceptor mints a token per call', async (t) => {
  let nowSec = 1_700_000_000;
  const server = await startServer({ token: SECRET, clock: () => nowSec });
  t.teardown(server.stop);
  const client = new EchoClient(server.address, grpc.credentials.createInsecure(), {
    interceptors: [v2TokenInterceptor(SECRET, () => nowSec)],
  });
  t.teardown(() => client.close());
  t.ok((await callAll(client, new grpc.Metadata())).every((o) => o.code === grpc.status.OK));
  nowSec += 3600;
  t.ok((await callAll(client, new grpc.Metadata())).every((o) => o.code === grpc.status.OK), 'an hour later, still fresh');
});

t.test('per-call credentials carry the token', async (t) => {
  const server = await startServer({ token: SECRET });
  t.teardown(server.stop);
  const client = new EchoClient(server.address, grpc.credentials.createInsecure());
  t.teardown(() => client.close());
  const outcomes = await callAll(client, new grpc.Metadata(), { credentials: v2CallCredentials(SECRET) });
  t.same(outcomes.map((o) => o.code), [0, 0, 0, 0]);
});

t.test('transitioning counts failures but lets calls through', async (t) => {
  const counter = new AuthCounter();
  const server = await startServer({ token: SECRET, transitioning: true, observe: counter.observe });
  t.teardown(server.stop);
  const client = new EchoClient(server.address, grpc.credentials.createInsecure());
  t.teardown(() => client.close());
  t.same((await callAll(client, new grpc.Metadata())).map((o) => o.code), [0, 0, 0, 0]);
  t.same((await callAll(client, v2TokenMetadata(SECRET, Math.floor(Date.now() / 1000)))).map((o) => o.code), [0, 0, 0, 0]);
  t.equal(counter.get(false, 'unauthenticated'), 4);
  t.equal(counter.get(false, 'would be ok'), 4);
});

t.test('no token configured: authentication is disabled and counted so', async (t) => {
  const counter = new AuthCounter();
  const server = await startServer({ token: '', observe: counter.observe });
  t.teardown(server.stop);
  const client = new EchoClient(server.address, grpc.credentials.createInsecure());
  t.teardown(() => client.close());
  t.same((await callAll(client, new grpc.Metadata())).map((o) => o.code), [0, 0, 0, 0]);
  t.same(counter.series(), [{ enforced: 'true', status: 'server disabled authentication', count: 4 }]);
});

// grpc-js clients refuse to send two authorization entries, so this path is
// checked on the function itself.
t.test('two authorization entries are malformed', async (t) => {
  const metadata = v2TokenMetadata(SECRET, 1_700_000_000);
  metadata.add('authorization', 'Bearer v2.00.1');
  const error = authenticateMetadata(metadata, { token: SECRET, clock: () => 1_700_000_000 });
  t.match(error, { code: grpc.status.UNAUTHENTICATED, details: /malformed: more than one authorization entry/ });
  const junk = new grpc.Metadata();
  junk.set('authorization', 'x');
  t.match(authenticateMetadata(junk, { token: SECRET }), { details: /malformed: expected "Bearer <token>"/ });
});

// What happens to a call's life through the forwarder: deadlines and
// cancellation in both directions, headers and trailers, and backpressure
// both ways. The node is scripted (fixtures/fake-node.ts).
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { checkV2Token } from '../../src/auth/index.js';
import type { Route } from '../../src/proxy/index.js';
import { encodeRequest, identity, ownClient, statusOfCall, unaryCall } from './fixtures/calls.js';
import { deferred, startFakeNode } from './fixtures/fake-node.js';
import { staticRouter, VIRTUAL_STORAGE } from './fixtures/static-router.js';
import { TRANSPORTS } from './fixtures/transports.js';

const NODE_TOKEN = 'lifecycle node secret';
const FIND_ALL = '/gitaly.RefService/FindAllBranchNames';
const UPLOAD_PACK = '/gitaly.SSHService/SSHUploadPack';
const RECEIVE_PACK = '/gitaly.SmartHTTPService/PostReceivePack';
const SIZE = '/gitaly.RepositoryService/RepositorySize';
const CHUNK_BYTES = 64 * 1024;
const CHUNKS = 400;

const fake = await startFakeNode();
t.teardown(() => fake.stop());

for (const [transport, startProxy] of TRANSPORTS) {
  t.test(transport, async (t) => {
    const finished: Array<{ path: string; status: grpc.StatusObject }> = [];
    const proxy = await startProxy({
      router: staticRouter({
        address: fake.address,
        token: NODE_TOKEN,
        decorate: (route: Route, request) => ({ ...route, onFinish: (status) => void finished.push({ path: request.method.path, status }) }),
      }),
    });
    const client = ownClient(proxy.address);
    const pinger = ownClient(proxy.address);
    t.teardown(async () => {
      client.close();
      pinger.close();
      await proxy.close(0);
    });

    const repository = { storage_name: VIRTUAL_STORAGE, relative_path: 'life.git' };
    const repoRequest = (type: string, extra: object = {}) => encodeRequest(type, { repository, ...extra });

    // A round trip through the forwarder and the node on another connection:
    // the event-driven way to let every process take its turn.
    fake.handle(SIZE, (call) => call.once('data', () => {
      call.write(encodeRequest('gitaly.RepositorySizeResponse', { size: 1 }));
      call.end();
    }));
    async function roundTrips(count: number): Promise<void> {
      for (let i = 0; i < count; i++) {
        const { outcome } = unaryCall(pinger, SIZE, repoRequest('gitaly.RepositorySizeRequest'));
        const { status } = await outcome;
        if (status.code !== grpc.status.OK) throw new Error(`round trip failed: ${status.details}`);
      }
    }

    t.test('a client deadline reaches the node and ends its call', async (t) => {
      const seen = deferred<number>();
      const cancelled = deferred();
      fake.handle(FIND_ALL, (call) => {
        call.on('cancelled', () => cancelled.resolve());
        call.once('data', () => {
          const deadline = call.getDeadline();
          seen.resolve(deadline instanceof Date ? deadline.getTime() : deadline);
        });
      });
      const clientDeadline = Date.now() + 1_000;
      const stream = client.makeServerStreamRequest(FIND_ALL, identity, identity, repoRequest('gitaly.FindAllBranchNamesRequest'), new grpc.Metadata(), { deadline: clientDeadline });
      stream.on('error', () => undefined);
      const nodeDeadline = await seen.promise;
      t.ok(Number.isFinite(nodeDeadline), 'the node got a deadline');
      t.ok(nodeDeadline <= clientDeadline + 50, `no later than the client's (${nodeDeadline - clientDeadline} ms)`);
      t.equal((await statusOfCall(stream)).code, grpc.status.DEADLINE_EXCEEDED);
      await cancelled.promise;
      t.pass('the node call was cancelled');
    });

    t.test('a client cancellation cancels the node call; onFinish hears of it', async (t) => {
      const started = deferred();
      const cancelled = deferred();
      fake.handle(UPLOAD_PACK, (call) => {
        call.on('cancelled', () => cancelled.resolve());
        call.once('data', () => started.resolve());
      });
      const duplex = client.makeBidiStreamRequest(UPLOAD_PACK, identity, identity, new grpc.Metadata(), {});
      duplex.on('error', () => undefined);
      duplex.write(repoRequest('gitaly.SSHUploadPackRequest'));
      await started.promise;
      duplex.cancel();
      t.equal((await statusOfCall(duplex)).code, grpc.status.CANCELLED);
      await cancelled.promise;
      t.pass('the node call was cancelled');
      await roundTrips(1);
      t.match(finished.filter((f) => f.path === UPLOAD_PACK).at(-1), { status: { code: grpc.status.CANCELLED } });
    });

    t.test('a node that goes away mid-call ends the client\'s call; onFinish hears of it', async (t) => {
      const doomed = await startFakeNode();
      const started = deferred();
      doomed.handle(FIND_ALL, (call) => call.once('data', () => {
        call.write(encodeRequest('gitaly.FindAllBranchNamesResponse', { names: [Buffer.from('refs/heads/main')] }));
        started.resolve();
      }));
      const seen: grpc.StatusObject[] = [];
      const viaDoomed = await startProxy({
        router: staticRouter({ address: doomed.address, decorate: (route: Route) => ({ ...route, onFinish: (status) => void seen.push(status) }) }),
      });
      const doomedClient = ownClient(viaDoomed.address);
      t.teardown(async () => {
        doomedClient.close();
        await viaDoomed.close(0);
      });
      const stream = doomedClient.makeServerStreamRequest(FIND_ALL, identity, identity, repoRequest('gitaly.FindAllBranchNamesRequest'), new grpc.Metadata(), {});
      stream.on('error', () => undefined);
      const firstMessage = deferred();
      stream.on('data', () => firstMessage.resolve());
      await started.promise;
      await firstMessage.promise;
      doomed.kill();
      const status = await statusOfCall(stream);
      t.equal(status.code, grpc.status.UNAVAILABLE, `the client learns the node is gone (${status.details})`);
      t.equal(viaDoomed.limiter.inFlight, 0, 'the slot is back');
      t.match(seen, [{ code: grpc.status.UNAVAILABLE }], 'onFinish got the same status');
    });

    t.test('headers, trailers and statuses pass through both ways', async (t) => {
      const seen = deferred<grpc.Metadata>();
      fake.handle(FIND_ALL, (call) => {
        seen.resolve(call.metadata);
        const headers = new grpc.Metadata();
        headers.set('x-node-header', 'from the node');
        call.sendMetadata(headers);
        call.once('data', () => {
          call.write(encodeRequest('gitaly.FindAllBranchNamesResponse', { names: [Buffer.from('refs/heads/main')] }));
          const trailers = new grpc.Metadata();
          trailers.set('x-node-trailer', 'bye');
          call.emit('error', { code: grpc.status.FAILED_PRECONDITION, details: 'the node says no', metadata: trailers });
        });
      });
      const metadata = new grpc.Metadata();
      metadata.set('x-client', 'hello');
      metadata.set('authorization', 'Bearer the-client-token');
      metadata.set('gitaly-reference-transaction', 'eyJpZCI6MX0=');
      metadata.set('gitaly-praefect-server', 'eyJsaXN0ZW5fYWRkciI6InRjcDovL2V2aWw6MSJ9');
      const stream = client.makeServerStreamRequest(FIND_ALL, identity, identity, repoRequest('gitaly.FindAllBranchNamesRequest'), metadata, {});
      stream.on('error', () => undefined);
      const messages: Buffer[] = [];
      stream.on('data', (message: Buffer) => messages.push(message));
      const headers = deferred<grpc.Metadata>();
      stream.on('metadata', headers.resolve);
      const status = await statusOfCall(stream);
      const nodeSaw = await seen.promise;
      t.same(nodeSaw.get('x-client'), ['hello'], 'request metadata reaches the node');
      t.same(nodeSaw.get('gitaly-reference-transaction'), [], 'a client cannot put a call into a reference transaction');
      t.same(nodeSaw.get('gitaly-praefect-server'), [], 'nor tell a node where to vote');
      t.same(checkV2Token(String(nodeSaw.get('authorization')[0]), NODE_TOKEN, Math.floor(Date.now() / 1000)), { ok: true }, 'with the internal token in place of the client\'s');
      t.same((await headers.promise).get('x-node-header'), ['from the node'], 'response headers reach the client');
      t.equal(messages.length, 1, 'the message before the error arrives');
      t.equal(status.code, grpc.status.FAILED_PRECONDITION);
      t.equal(status.details, 'the node says no');
      t.same(status.metadata.get('x-node-trailer'), ['bye'], 'trailers reach the client');
    });

    t.test('a slow client holds the node back (server to client backpressure)', async (t) => {
      let written = 0;
      let finishedWriting = false;
      const blocked = deferred();
      fake.handle(FIND_ALL, (call) => {
        call.once('data', async () => {
          for (let i = 0; i < CHUNKS; i++) {
            if (!call.write(Buffer.alloc(CHUNK_BYTES, i % 251))) {
              blocked.resolve();
              await new Promise((resolve) => call.once('drain', resolve));
            }
            written++;
          }
          finishedWriting = true;
          call.end();
        });
      });
      const stream = client.makeServerStreamRequest(FIND_ALL, identity, identity, repoRequest('gitaly.FindAllBranchNamesRequest'), new grpc.Metadata(), {});
      stream.pause();
      await blocked.promise;
      await roundTrips(20);
      t.notOk(finishedWriting, 'the node is still waiting for the client');
      t.ok(written < CHUNKS / 2, `the node wrote ${written} of ${CHUNKS} messages while the client read none`);
      let received = 0;
      let intact = true;
      stream.on('data', (message: Buffer) => {
        intact &&= message.length === CHUNK_BYTES && message[0] === received % 251;
        received++;
      });
      stream.resume();
      t.equal((await statusOfCall(stream)).code, grpc.status.OK);
      t.equal(received, CHUNKS, 'every message arrives once the client reads');
      t.ok(intact, 'in order and intact');
    });

    t.test('a slow node holds the client back (client to server backpressure)', async (t) => {
      const reading = deferred<grpc.ServerDuplexStream<Buffer, Buffer>>();
      let received = 0;
      fake.handle(RECEIVE_PACK, (call) => reading.resolve(call));
      const duplex = client.makeBidiStreamRequest(RECEIVE_PACK, identity, identity, new grpc.Metadata(), {});
      duplex.on('error', () => undefined);
      let accepted = 0;
      const blocked = deferred();
      const writer = (async () => {
        duplex.write(repoRequest('gitaly.PostReceivePackRequest'));
        for (let i = 0; i < CHUNKS; i++) {
          if (!duplex.write(encodeRequest('gitaly.PostReceivePackRequest', { data: Buffer.alloc(CHUNK_BYTES, 7) }))) {
            blocked.resolve();
            await new Promise((resolve) => duplex.once('drain', resolve));
          }
          accepted++;
        }
        duplex.end();
      })();
      const nodeCall = await reading.promise;
      // The node reads nothing; the client must end up waiting for 'drain' for good.
      await blocked.promise;
      await roundTrips(20);
      t.ok(accepted < CHUNKS / 2, `the client got ${accepted} of ${CHUNKS} messages out while the node read none`);
      nodeCall.on('data', () => received++);
      nodeCall.on('end', () => nodeCall.end());
      await writer;
      t.equal((await statusOfCall(duplex)).code, grpc.status.OK);
      t.equal(received, CHUNKS + 1, 'the node got every message once it read');
    });
  });
}

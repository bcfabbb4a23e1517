// A route's onFinish: mutators wait for it before the client hears anything
// (the router records the write first), and its error replaces the answer;
// accessors never wait for it.
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { RoutingError, type Route, type RouteRequest } from '../../src/proxy/index.js';
import { encodeRequest, identity, ownClient, statusOfCall, unaryCall } from './fixtures/calls.js';
import { deferred, startFakeNode } from './fixtures/fake-node.js';
import { staticRouter, VIRTUAL_STORAGE } from './fixtures/static-router.js';
import { TRANSPORTS } from './fixtures/transports.js';

const WRITE_REF = '/gitaly.RepositoryService/WriteRef';
const FIND_BRANCH = '/gitaly.RefService/FindBranch';
const RECEIVE_PACK = '/gitaly.SSHService/SSHReceivePack';
const SIZE = '/gitaly.RepositoryService/RepositorySize';

type Hook = (status: grpc.StatusObject, request: RouteRequest) => Promise<void>;
const fake = await startFakeNode();
t.teardown(() => fake.stop());

for (const [transport, startProxy] of TRANSPORTS) {
  t.test(transport, async (t) => {
    let hook: Hook | undefined;
    const reported: unknown[] = [];
    const proxy = await startProxy({
      router: staticRouter({
        address: fake.address,
        decorate: (route: Route, request) => (hook === undefined || request.method.path === SIZE ? route : { ...route, onFinish: (status) => (hook as Hook)(status, request) }),
      }),
      onError: (error) => reported.push(error),
    });
    const client = ownClient(proxy.address);
    t.teardown(async () => {
      client.close();
      await proxy.close(0);
    });

    const repository = { storage_name: VIRTUAL_STORAGE, relative_path: 'finish.git' };
    const answerWith = (path: string, type: string, value: object, status: { code: grpc.status; details: string } | undefined = undefined) =>
      fake.handle(path, (call) => call.once('data', () => {
        call.write(encodeRequest(type, value));
        if (status === undefined) call.end();
        else call.emit('error', status);
      }));
    answerWith(SIZE, 'gitaly.RepositorySizeResponse', { size: 7 });

    /** A call on the same connection: an answer the router had already sent would arrive before this one's. */
    async function roundTrip(): Promise<void> {
      const { status } = await unaryCall(client, SIZE, encodeRequest('gitaly.RepositorySizeRequest', { repository })).outcome;
      if (status.code !== grpc.status.OK) throw new Error(status.details);
    }

    const writeRef = () => unaryCall(client, WRITE_REF, encodeRequest('gitaly.WriteRefRequest', { repository, ref: Buffer.from('HEAD'), revision: Buffer.from('refs/heads/main') }));

    t.test('a unary mutator\'s response waits for onFinish', async (t) => {
      answerWith(WRITE_REF, 'gitaly.WriteRefResponse', {});
      const called = deferred<grpc.StatusObject>();
      const release = deferred();
      hook = async (status) => {
        called.resolve(status);
        await release.promise;
      };
      let answered = false;
      const { call, outcome } = writeRef();
      call.on('status', () => (answered = true));
      t.equal((await called.promise).code, grpc.status.OK, 'onFinish gets the node\'s status');
      await roundTrip();
      t.notOk(answered, 'the client has no answer while onFinish runs');
      release.resolve();
      const result = await outcome;
      t.equal(result.status.code, grpc.status.OK);
      t.ok(result.response !== undefined, 'then the response arrives');
    });

    t.test('onFinish rejecting with a RoutingError turns success into that error', async (t) => {
      answerWith(WRITE_REF, 'gitaly.WriteRefResponse', {});
      hook = async () => {
        throw new RoutingError('ROUTE_ABORTED', 'the primary changed during the write; retry');
      };
      const result = await writeRef().outcome;
      t.equal(result.status.code, grpc.status.ABORTED);
      t.equal(result.status.details, 'the primary changed during the write; retry');
      t.equal(result.response, undefined, 'the node\'s response is dropped');
      hook = async () => {
        throw new Error('a bug in a router');
      };
      const buggy = await writeRef().outcome;
      t.equal(buggy.status.code, grpc.status.INTERNAL, 'an untyped error is INTERNAL');
      t.notMatch(buggy.status.details, /bug in a router/, 'without its message');
      t.match(reported.at(-1), { message: 'a bug in a router' }, 'the error goes to onError');
    });

    t.test('a failed mutator: onFinish sees the failure, the client gets it after', async (t) => {
      answerWith(WRITE_REF, 'gitaly.WriteRefResponse', {}, { code: grpc.status.NOT_FOUND, details: 'no such repository' });
      const seen: grpc.StatusObject[] = [];
      hook = async (status) => void seen.push(status);
      const result = await writeRef().outcome;
      t.equal(result.status.code, grpc.status.NOT_FOUND);
      t.match(seen, [{ code: grpc.status.NOT_FOUND, details: 'no such repository' }]);
    });

    t.test('an accessor never waits for onFinish, and its failure is only reported', async (t) => {
      answerWith(FIND_BRANCH, 'gitaly.FindBranchResponse', {});
      const called = deferred();
      hook = async () => {
        called.resolve();
        await new Promise(() => undefined);
      };
      const result = await unaryCall(client, FIND_BRANCH, encodeRequest('gitaly.FindBranchRequest', { repository, name: Buffer.from('main') })).outcome;
      t.equal(result.status.code, grpc.status.OK, 'answered although onFinish never settles');
      await called.promise;
      hook = async () => {
        throw new RoutingError('ROUTE_UNAVAILABLE', 'cannot record');
      };
      const before = reported.length;
      const second = await unaryCall(client, FIND_BRANCH, encodeRequest('gitaly.FindBranchRequest', { repository, name: Buffer.from('main') })).outcome;
      t.equal(second.status.code, grpc.status.OK);
      await roundTrip();
      t.equal(reported.length, before + 1, 'the failure went to onError');
    });

    t.test('a streaming mutator streams its messages, but its status waits', async (t) => {
      fake.handle(RECEIVE_PACK, (call) => call.once('data', () => {
        call.write(encodeRequest('gitaly.SSHReceivePackResponse', { stdout: Buffer.from('progress') }));
        call.end();
      }));
      const release = deferred();
      const called = deferred();
      hook = async () => {
        called.resolve();
        await release.promise;
      };
      const duplex = client.makeBidiStreamRequest(RECEIVE_PACK, identity, identity, new grpc.Metadata(), {});
      duplex.on('error', () => undefined);
      const firstMessage = deferred();
      duplex.on('data', () => firstMessage.resolve());
      let ended = false;
      const status = statusOfCall(duplex).then((s) => {
        ended = true;
        return s;
      });
      duplex.write(encodeRequest('gitaly.SSHReceivePackRequest', { repository }));
      duplex.end();
      await firstMessage.promise;
      await called.promise;
      await roundTrip();
      t.notOk(ended, 'the status waits for onFinish');
      release.resolve();
      t.equal((await status).code, grpc.status.OK);
    });
  });
}

// Load shedding and size bounds: past the in-flight bound for the router or
// for one repository, RESOURCE_EXHAUSTED at once; slots come back when calls
// end; messages past the size bound are refused either way.
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { encodeRequest, ownClient, unaryCall, type UnaryOutcome } from './fixtures/calls.js';
import { deferred, startFakeNode, type FakeCall } from './fixtures/fake-node.js';
import { staticRouter, VIRTUAL_STORAGE } from './fixtures/static-router.js';
import { TRANSPORTS } from './fixtures/transports.js';

const EXISTS = '/gitaly.RepositoryService/RepositoryExists';
const FIND_BRANCH = '/gitaly.RefService/FindBranch';
const MAX_MESSAGE_BYTES = 64 * 1024;

const fake = await startFakeNode();
t.teardown(() => fake.stop());

for (const [transport, startProxy] of TRANSPORTS) {
  t.test(transport, async (t) => {
    const proxy = await startProxy({
      router: staticRouter({ address: fake.address }),
      limits: { maxCalls: 3, maxCallsPerRepository: 2, maxMessageBytes: MAX_MESSAGE_BYTES },
    });
    const client = ownClient(proxy.address);
    t.teardown(async () => {
      client.close();
      await proxy.close(0);
    });

    const exists = (relative: string, extra: object = {}) =>
      unaryCall(client, EXISTS, encodeRequest('gitaly.RepositoryExistsRequest', { repository: { storage_name: VIRTUAL_STORAGE, relative_path: relative, ...extra } }));

    t.test('in-flight bounds per repository and per router', async (t) => {
      const held: FakeCall[] = [];
      let arrived = deferred();
      fake.handle(EXISTS, (call) => {
        call.once('data', () => {
          held.push(call);
          arrived.resolve();
        });
      });
      const waitHeld = async (count: number): Promise<void> => {
        while (held.length < count) {
          await arrived.promise;
          arrived = deferred();
        }
      };
      const first = [exists('a.git'), exists('a.git')];
      await waitHeld(2);
      const third = await exists('a.git').outcome;
      t.equal(third.status.code, grpc.status.RESOURCE_EXHAUSTED, 'a third call on one repository is shed');
      t.match(third.status.details, /for this repository \(limit 2\)/);
      const other = exists('b.git');
      await waitHeld(3);
      const fourth = await exists('c.git').outcome;
      t.equal(fourth.status.code, grpc.status.RESOURCE_EXHAUSTED, 'a fourth call anywhere is shed');
      t.match(fourth.status.details, /too many calls in flight \(limit 3\)/);
      t.equal(proxy.limiter.inFlight, 3);

      for (const call of held) {
        call.write(encodeRequest('gitaly.RepositoryExistsResponse', { exists: true }));
        call.end();
      }
      const outcomes: UnaryOutcome[] = await Promise.all([...first, other].map((c) => c.outcome));
      t.same(outcomes.map((o) => o.status.code), [0, 0, 0], 'the admitted calls complete');
      t.equal(proxy.limiter.inFlight, 0, 'every slot is back');

      fake.handle(EXISTS, (call) => call.once('data', () => {
        call.write(encodeRequest('gitaly.RepositoryExistsResponse', { exists: true }));
        call.end();
      }));
      const again = await Promise.all([exists('a.git').outcome, exists('a.git').outcome]);
      t.same(again.map((o) => o.status.code), [0, 0], 'the repository takes calls again');
    });

    t.test('refused and failed calls give their slots back', async (t) => {
      for (let i = 0; i < 5; i++) {
        t.equal((await exists('../bad.git').outcome).status.code, grpc.status.INVALID_ARGUMENT);
        t.equal((await unaryCall(client, EXISTS, encodeRequest('gitaly.RepositoryExistsRequest', { repository: { storage_name: 'nowhere', relative_path: 'a.git' } })).outcome).status.code, grpc.status.NOT_FOUND);
      }
      t.equal(proxy.limiter.inFlight, 0);
    });

    t.test('messages past the size bound are refused both ways', async (t) => {
      const big = await exists('a.git', { gl_project_path: 'x'.repeat(MAX_MESSAGE_BYTES) }).outcome;
      t.equal(big.status.code, grpc.status.RESOURCE_EXHAUSTED, 'a request past the bound');
      fake.handle(FIND_BRANCH, (call) => call.once('data', () => {
        call.write(Buffer.alloc(MAX_MESSAGE_BYTES + 1));
        call.end();
      }));
      const request = encodeRequest('gitaly.FindBranchRequest', { repository: { storage_name: VIRTUAL_STORAGE, relative_path: 'a.git' }, name: Buffer.from('main') });
      const answer = await unaryCall(client, FIND_BRANCH, request).outcome;
      t.equal(answer.status.code, grpc.status.RESOURCE_EXHAUSTED, 'a response past the bound');
      t.equal(proxy.limiter.inFlight, 0);
    });
  });
}

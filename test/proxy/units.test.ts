// The small pure parts: the in-flight limiter, the server-scoped merges, the
// error-to-status table, and address forms.
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { grpcStatusOf, grpcTarget, OverloadedError, RoutingError, statusOfError, InvalidRequestError } from '../../src/proxy/index.js';
import { InFlightLimiter } from '../../src/proxy/inflight-limiter.js';
import { mergeDiskStatistics, mergeReadiness, mergeServerInfo } from '../../src/proxy/server-merge.js';

t.test('limiter: bounds, release once, per-repository keys', async (t) => {
  const limiter = new InFlightLimiter({ maxCalls: 2, maxCallsPerRepository: 1 });
  const a = limiter.acquireCall();
  const b = limiter.acquireCall();
  t.throws(() => limiter.acquireCall(), OverloadedError);
  a();
  a();
  t.equal(limiter.inFlight, 1, 'a release counts once');
  const c = limiter.acquireCall();
  b();
  c();
  t.equal(limiter.inFlight, 0);
  const r1 = limiter.acquireRepository('v\0a');
  t.throws(() => limiter.acquireRepository('v\0a'), { scope: 'repository', code: 'PROXY_OVERLOADED' });
  const r2 = limiter.acquireRepository('v\0b');
  r1();
  limiter.acquireRepository('v\0a')();
  r2();
});

t.test('errors map to statuses in one table', async (t) => {
  t.equal(grpcStatusOf('ROUTE_READ_ONLY'), grpc.status.FAILED_PRECONDITION);
  t.equal(grpcStatusOf('ROUTE_ABORTED'), grpc.status.ABORTED);
  t.equal(grpcStatusOf('ROUTE_UNAVAILABLE'), grpc.status.UNAVAILABLE);
  t.match(statusOfError(new InvalidRequestError('repository.relative_path', 'empty')), { code: grpc.status.INVALID_ARGUMENT, details: 'repository.relative_path: empty' });
  t.match(statusOfError(new OverloadedError('router', 5)), { code: grpc.status.RESOURCE_EXHAUSTED });
  t.match(statusOfError(new RoutingError('ROUTE_READ_ONLY', 'repository is in read-only mode')), { code: grpc.status.FAILED_PRECONDITION, details: 'repository is in read-only mode' });
  t.match(statusOfError(new Error('secret internals')), { code: grpc.status.INTERNAL, details: 'internal error in the router' });
});

t.test('addresses in Gitaly forms', async (t) => {
  t.equal(grpcTarget('tcp://127.0.0.1:8075'), '127.0.0.1:8075');
  t.equal(grpcTarget('unix:///run/gitaly.socket'), 'unix:/run/gitaly.socket');
  t.equal(grpcTarget('10.0.0.1:8075'), '10.0.0.1:8075');
});

const nodeA = { address: 'a:1', storages: [{ storage: 'gitaly-1', virtualStorage: 'default' }] };
const nodeB = { address: 'b:1', storages: [{ storage: 'gitaly-2', virtualStorage: 'default' }] };

t.test('ServerInfo: one status per node and virtual storage; a silent node shows unavailable', async (t) => {
  const merged = mergeServerInfo('router-1', [
    { node: nodeA, ok: true, value: { server_version: 'n', git_version: '2.43.0', storage_statuses: [{ storage_name: 'gitaly-1', readable: true, writeable: true }, { storage_name: 'unmapped', readable: true }] } },
    { node: nodeB, ok: false, error: 'connect ECONNREFUSED' },
  ]);
  t.same(merged, {
    server_version: 'router-1',
    git_version: '2.43.0',
    storage_statuses: [
      { storage_name: 'default', readable: true, writeable: true },
      { storage_name: 'default', readable: false, writeable: false },
    ],
  });
  const plain = mergeServerInfo('r', [{ node: { address: 'c:1' }, ok: true, value: { server_version: 'n', git_version: 'g', storage_statuses: [{ storage_name: 's1' }, { storage_name: 's2' }] } }]);
  t.same(plain.storage_statuses.map((s) => s.storage_name), ['s1', 's2'], 'without a mapping, every storage under its own name');
});

t.test('DiskStatistics and ReadinessCheck merges', async (t) => {
  t.same(mergeDiskStatistics([
    { node: nodeA, ok: true, value: { storage_statuses: [{ storage_name: 'gitaly-1', available: 5, used: 1 }] } },
    { node: nodeB, ok: false, error: 'down' },
  ]), { storage_statuses: [{ storage_name: 'default', available: 5, used: 1 }] });
  t.same(mergeReadiness([{ node: nodeA, ok: true, value: { ok_response: {} } }]), { ok_response: {} });
  t.same(mergeReadiness([
    { node: nodeA, ok: true, value: { failure_response: { failed_checks: [{ name: 'disk', error_message: 'full' }] } } },
    { node: nodeB, ok: false, error: 'down' },
  ]), { failure_response: { failed_checks: [{ name: 'a:1: disk', error_message: 'full' }, { name: 'b:1: reachable', error_message: 'down' }] } });
});

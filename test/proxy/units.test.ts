// The small pure parts: the in-flight limiter, the server-scoped merges, the
// error-to-status table, address forms, gRPC framing and timeouts, the
// storage-scoped peek, the status of a node that gave up.
import { gzipSync } from 'node:zlib';
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { gitalyProtocol } from '../../src/protocol/index.js';
import { FirstMessageCodec, grpcStatusOf, grpcTarget, OverloadedError, RoutingError, statusOfError, InvalidRequestError } from '../../src/proxy/index.js';
import { MessageTooLargeError, UnsupportedEncodingError } from '../../src/proxy/errors.js';
import { FirstMessageCollector, frameMessage, MessageSizeGuard, plainMessage } from '../../src/proxy/grpc-framing.js';
import { deadlineFromHeaders, grpcTimeout } from '../../src/proxy/grpc-headers.js';
import { InFlightLimiter } from '../../src/proxy/inflight-limiter.js';
import { clientStatusOf } from '../../src/proxy/upstream-status.js';
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

t.test('gRPC framing: the first message, compressed or not, and the size guard', async (t) => {
  const message = Buffer.from('hello first message');
  const framed = frameMessage(message);
  const collector = new FirstMessageCollector(1024);
  t.equal(collector.push(framed.subarray(0, 3)), undefined, 'a partial prefix waits');
  t.equal(collector.push(framed.subarray(3, 10)), undefined, 'a partial body waits');
  const first = collector.push(Buffer.concat([framed.subarray(10), Buffer.from([0, 0, 0, 0, 1, 7])]));
  t.same(first?.message, message);
  t.same(first?.rest, Buffer.from([0, 0, 0, 0, 1, 7]), 'what follows is kept for forwarding');
  t.throws(() => new FirstMessageCollector(4).push(framed), MessageTooLargeError);
  const gz = gzipSync(message);
  const compressed = Buffer.concat([Buffer.from([1, 0, 0, 0, gz.length]), gz]);
  const found = new FirstMessageCollector(1024).push(compressed);
  t.equal(found?.compressed, true);
  t.same(plainMessage(found!, 'gzip', 1024), message, 'gzip is read');
  t.throws(() => plainMessage(found!, 'snappy', 1024), UnsupportedEncodingError);
  t.throws(() => plainMessage(found!, 'gzip', 4), MessageTooLargeError, 'the bound holds after decompression');

  const guard = new MessageSizeGuard(8);
  guard.check(Buffer.from([0, 0, 0, 0, 8, 1, 2, 3]));
  guard.check(Buffer.from([4, 5, 6, 7, 8, 0, 0, 0]));
  t.throws(() => guard.check(Buffer.from([0, 9])), MessageTooLargeError, 'a prefix split across chunks is read whole');
});

t.test('grpc-timeout in and out', async (t) => {
  t.equal(deadlineFromHeaders({}, 1000), Number.POSITIVE_INFINITY);
  t.equal(deadlineFromHeaders({ 'grpc-timeout': '250m' }, 1000), 1250);
  t.equal(deadlineFromHeaders({ 'grpc-timeout': '2S' }, 1000), 3000);
  t.equal(deadlineFromHeaders({ 'grpc-timeout': '1M' }, 0), 60_000);
  t.equal(deadlineFromHeaders({ 'grpc-timeout': '5000u' }, 0), 5);
  t.throws(() => deadlineFromHeaders({ 'grpc-timeout': '12x' }, 0), { field: 'grpc-timeout' } as unknown as Error);
  t.equal(grpcTimeout(1234.2), '1235m');
  t.equal(grpcTimeout(-5), '0m');
  t.equal(grpcTimeout(2e8), '200000S');
});

t.test('storage-scoped requests: the storage field is read, validated and rewritten', async (t) => {
  const { root } = gitalyProtocol();
  const codec = new FirstMessageCodec(root);
  // No method of ours is storage-scoped yet; a Repository message stands in
  // for a request whose storage name is field 2.
  const method = { path: '/x/Y', service: 'x', method: 'Y', operation: 'accessor', scope: 'storage', streaming: 'unary', requestType: 'gitaly.Repository', responseType: 'gitaly.Repository', storage: { names: ['storage_name'], numbers: [2] } } as const;
  const type = root.lookupType('gitaly.Repository');
  const bytes = type.encode(type.fromObject({ storage_name: 'virtual', relative_path: 'keep' })).finish();
  t.same(codec.read(method, bytes), { storage: 'virtual' });
  const out = codec.rewrite(method, bytes, { target: { address: 'x' }, storageRewrite: 'physical-1' });
  t.match(type.toObject(type.decode(out)), { storage_name: 'physical-1', relative_path: 'keep' });
  t.throws(() => codec.read(method, type.encode(type.fromObject({ relative_path: 'x' })).finish()), InvalidRequestError, 'a missing storage is refused');
});

t.test('a node that cancels a call the client did not cancel is UNAVAILABLE', async (t) => {
  const cancelled = { code: grpc.status.CANCELLED, details: 'Call cancelled', metadata: new grpc.Metadata() };
  t.equal(clientStatusOf(cancelled, false).code, grpc.status.UNAVAILABLE);
  t.equal(clientStatusOf(cancelled, true).code, grpc.status.CANCELLED);
  const ok = { code: grpc.status.OK, details: '', metadata: new grpc.Metadata() };
  t.equal(clientStatusOf(ok, false), ok);
});

// Storage nodes voting with a router, end to end: a TransactionManager
// served over gRPC in this process plays the router; three in-process
// storage nodes (one primary, two secondaries) run the same mutator with
// transaction metadata, and git's reference-transaction hook votes their
// reference updates. Real git, real gRPC over loopback. The hook program
// runs from dist/, so build first (npx tsc -p .).
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import t from 'tap';
import { withTransaction } from '../../src/gitaly/index.js';
import { FLUSH_PKT, pktLine } from '../../src/gitaly/git/pkt-line.js';
import { findProjectRoot } from '../../src/protocol/index.js';
import { addRefTransactionService, primaryQuorum, TransactionManager, TransactionMetrics } from '../../src/transactions/index.js';
import { git, gitOutput, seedWorkRepo } from '../gitaly/fixtures/git.js';
import { startInProcessNode, type TestNode } from '../gitaly/fixtures/node.js';
import { Rpc } from '../gitaly/fixtures/rpc.js';

const ROUTER_TOKEN = 'router-secret';
const STORAGES = ['gitaly-1', 'gitaly-2', 'gitaly-3'] as const;
const user = { gl_id: 'user-1', name: Buffer.from('Jane Doe'), email: Buffer.from('jane@example.com'), gl_username: 'jane', timezone: 'UTC' };

if (!existsSync(path.join(findProjectRoot(), 'dist', 'src', 'gitaly', 'reference-transaction-hook-main.js'))) {
  t.fail('dist/ is missing the reference-transaction hook program: run npx tsc -p . first');
  process.exit(1);
}

interface Router {
  address: string;
  manager: TransactionManager;
  registry: Registry;
  close(): Promise<void>;
}

async function startRouter(voteTimeoutMs: number): Promise<Router> {
  const registry = new Registry();
  const manager = new TransactionManager({ voteTimeoutMs, metrics: new TransactionMetrics(registry) });
  const server = new grpc.Server();
  addRefTransactionService(server, manager, { token: ROUTER_TOKEN });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return {
    address: `tcp://127.0.0.1:${port}`,
    manager,
    registry,
    close: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}

const nodes: TestNode[] = [];
for (const storage of STORAGES) nodes.push(await startInProcessNode({ storages: [storage] }));
const rpcs = nodes.map((node) => new Rpc(node.address));
t.teardown(async () => {
  for (const rpc of rpcs) rpc.close();
  await Promise.all(nodes.map((node) => node.close()));
});

let counter = 0;
/** The same empty repository on every node. */
async function newRepo(): Promise<{ repos: Array<{ storage_name: string; relative_path: string }>; dirs: string[] }> {
  const relative = `repos/tx${++counter}.git`;
  const repos = STORAGES.map((storage) => ({ storage_name: storage, relative_path: relative }));
  await Promise.all(repos.map((repository, i) => rpcs[i]?.unary('/gitaly.RepositoryService/CreateRepository', { repository })));
  return { repos, dirs: STORAGES.map((storage, i) => path.join(nodes[i]?.storages[storage] as string, relative)) };
}

function metadataFor(router: Router, id: number, index: number): grpc.Metadata {
  return withTransaction(new grpc.Metadata(), { id, node: STORAGES[index] as string, primary: index === 0 }, { listenAddr: router.address, token: ROUTER_TOKEN });
}

function commitFiles(index: number, repository: unknown, content: string, metadata?: grpc.Metadata): Promise<unknown> {
  const requests = [
    { header: { repository, user, branch_name: Buffer.from('main'), commit_message: Buffer.from('voted commit'), timestamp: { seconds: 1_700_000_000, nanos: 0 } } },
    { action: { header: { action: 'CREATE', file_path: Buffer.from('README.md') } } },
    { action: { content: Buffer.from(content) } },
  ];
  return (rpcs[index] as Rpc).clientStream('/gitaly.OperationService/UserCommitFiles', requests, metadata);
}

async function refOf(dir: string, ref = 'refs/heads/main'): Promise<string | undefined> {
  try {
    return await git(dir, 'rev-parse', '--verify', '-q', ref);
  } catch {
    return undefined;
  }
}

async function settledCodes(calls: Array<Promise<unknown>>): Promise<Array<'ok' | number>> {
  const results = await Promise.allSettled(calls);
  return results.map((r) => (r.status === 'fulfilled' ? 'ok' : ((r.reason as grpc.ServiceError).code ?? -1)));
}

async function metric(router: Router, action: string): Promise<number> {
  const text = await router.registry.metrics();
  const match = new RegExp(`gitaly_praefect_transactions_total\\{action="${action}"\\} (\\d+)`).exec(text);
  return match === null ? 0 : Number(match[1]);
}

t.test('UserCommitFiles with the same content on all three nodes: everyone commits', async (t) => {
  const router = await startRouter(30_000);
  t.teardown(() => router.close());
  const { repos, dirs } = await newRepo();
  const id = router.manager.register(primaryQuorum(STORAGES[0], STORAGES.slice(1)));
  const codes = await settledCodes(repos.map((repo, i) => commitFiles(i, repo, 'same\n', metadataFor(router, id, i))));
  t.same(codes, ['ok', 'ok', 'ok']);
  const heads = await Promise.all(dirs.map((dir) => refOf(dir)));
  t.ok(heads[0] !== undefined && heads.every((h) => h === heads[0]), `one commit everywhere: ${heads.join(' ')}`);
  t.match(router.manager.cancel(id), { voters: { 'gitaly-1': 'committed', 'gitaly-2': 'committed', 'gitaly-3': 'committed' } });
  t.equal(await metric(router, 'committed'), 3, 'each node voted once and was answered COMMIT');
});

t.test('one node with a different change is cancelled; the others commit', async (t) => {
  const router = await startRouter(30_000);
  t.teardown(() => router.close());
  const { repos, dirs } = await newRepo();
  const id = router.manager.register(primaryQuorum(STORAGES[0], STORAGES.slice(1)));
  const codes = await settledCodes(repos.map((repo, i) => commitFiles(i, repo, i === 2 ? 'different\n' : 'same\n', metadataFor(router, id, i))));
  t.same(codes, ['ok', 'ok', grpc.status.ABORTED], 'the odd node fails with a retryable ABORTED');
  const heads = await Promise.all(dirs.map((dir) => refOf(dir)));
  t.ok(heads[0] !== undefined && heads[0] === heads[1]);
  t.equal(heads[2], undefined, "the odd node's branch was not created");
  t.match(router.manager.cancel(id).voters, { 'gitaly-1': 'committed', 'gitaly-2': 'committed', 'gitaly-3': 'failed' });
});

t.test('the router answering ABORT (the primary disagrees with both secondaries): no ref changes anywhere', async (t) => {
  const router = await startRouter(30_000);
  t.teardown(() => router.close());
  const { repos, dirs } = await newRepo();
  const id = router.manager.register(primaryQuorum(STORAGES[0], STORAGES.slice(1)));
  const codes = await settledCodes(repos.map((repo, i) => commitFiles(i, repo, i === 0 ? 'primary\n' : 'secondaries\n', metadataFor(router, id, i))));
  t.same(codes, [grpc.status.ABORTED, grpc.status.ABORTED, grpc.status.ABORTED]);
  t.same(await Promise.all(dirs.map((dir) => refOf(dir))), [undefined, undefined, undefined]);
  t.equal(await metric(router, 'failed'), 3);
});

t.test('a stopped transaction fails the update with STOP', async (t) => {
  const router = await startRouter(30_000);
  t.teardown(() => router.close());
  const { repos, dirs } = await newRepo();
  const id = router.manager.register(primaryQuorum(STORAGES[0], STORAGES.slice(1)));
  router.manager.stop(id);
  t.same(await settledCodes([commitFiles(0, repos[0], 'x\n', metadataFor(router, id, 0))]), [grpc.status.ABORTED]);
  t.equal(await refOf(dirs[0] as string), undefined);
  t.equal(await metric(router, 'stopped'), 2, 'the StopTransaction and the STOP answer');
});

t.test('a vote timeout aborts: the primary votes alone and its update is not committed', async (t) => {
  const router = await startRouter(400);
  t.teardown(() => router.close());
  const { repos, dirs } = await newRepo();
  const id = router.manager.register(primaryQuorum(STORAGES[0], STORAGES.slice(1)));
  const started = Date.now();
  t.same(await settledCodes([commitFiles(0, repos[0], 'alone\n', metadataFor(router, id, 0))]), [grpc.status.ABORTED]);
  t.ok(Date.now() - started >= 400, 'answered after the vote timeout');
  t.equal(await refOf(dirs[0] as string), undefined);
  t.equal(router.manager.summary(id).state, 'aborted');
  const late = await settledCodes([commitFiles(1, repos[1], 'alone\n', metadataFor(router, id, 1))]);
  t.same(late, [grpc.status.ABORTED], 'a later voter is aborted too');
  t.equal(await refOf(dirs[1] as string), undefined);
});

t.test('a transaction the router does not know fails the update (NOT_FOUND from the router)', async (t) => {
  const router = await startRouter(30_000);
  t.teardown(() => router.close());
  const { repos, dirs } = await newRepo();
  t.same(await settledCodes([commitFiles(0, repos[0], 'x\n', metadataFor(router, 424242, 0))]), [grpc.status.ABORTED]);
  t.equal(await refOf(dirs[0] as string), undefined);
});

t.test('without transaction metadata nothing is voted', async (t) => {
  const router = await startRouter(30_000);
  t.teardown(() => router.close());
  const { repos, dirs } = await newRepo();
  t.same(await settledCodes([commitFiles(0, repos[0], 'plain\n')]), ['ok']);
  t.ok((await refOf(dirs[0] as string)) !== undefined);
  t.equal(await metric(router, 'started'), 0, 'the router saw no vote');
});

t.test('malformed transaction metadata is INVALID_ARGUMENT', async (t) => {
  const { repos } = await newRepo();
  const metadata = new grpc.Metadata();
  metadata.set('gitaly-reference-transaction', 'not base64 json');
  t.same(await settledCodes([commitFiles(0, repos[0], 'x\n', metadata)]), [grpc.status.INVALID_ARGUMENT]);
});

t.test('ref updates the node makes itself: WriteRef, UpdateReferences and DeleteRefs are voted', async (t) => {
  const router = await startRouter(30_000);
  t.teardown(() => router.close());
  const { repos, dirs } = await newRepo();
  await Promise.all(repos.map((repo, i) => commitFiles(i, repo, 'base\n')));
  const head = (await refOf(dirs[0] as string)) as string;
  const id = router.manager.register(primaryQuorum(STORAGES[0], STORAGES.slice(1)));
  const writes = repos.map((repository, i) =>
    (rpcs[i] as Rpc).unary('/gitaly.RepositoryService/WriteRef', { repository, ref: Buffer.from('refs/heads/written'), revision: Buffer.from(head) }, metadataFor(router, id, i)),
  );
  t.same(await settledCodes(writes), ['ok', 'ok', 'ok']);
  const updates = repos.map((repository, i) =>
    (rpcs[i] as Rpc).clientStream(
      '/gitaly.RefService/UpdateReferences',
      [{ repository, updates: [{ reference: Buffer.from(i === 1 ? 'refs/heads/odd' : 'refs/heads/updated'), old_object_id: Buffer.from(''), new_object_id: Buffer.from(head) }] }],
      metadataFor(router, id, i),
    ),
  );
  t.same(await settledCodes(updates), ['ok', grpc.status.ABORTED, 'ok'], 'the node updating another reference is voted out');
  t.equal(await refOf(dirs[1] as string, 'refs/heads/odd'), undefined);
  const deletes = [0, 2].map((i) =>
    (rpcs[i] as Rpc).unary('/gitaly.RefService/DeleteRefs', { repository: repos[i], refs: [Buffer.from('refs/heads/written')] }, metadataFor(router, id, i)),
  );
  t.same(await settledCodes(deletes), ['ok', 'ok'], 'the remaining nodes agree on the third subtransaction');
  t.equal(await refOf(dirs[0] as string, 'refs/heads/written'), undefined);
  const failedNode = await settledCodes([
    (rpcs[1] as Rpc).unary('/gitaly.RefService/DeleteRefs', { repository: repos[1], refs: [Buffer.from('refs/heads/written')] }, metadataFor(router, id, 1)),
  ]);
  t.same(failedNode, [grpc.status.ABORTED], 'the voted-out node stays out for the rest of the transaction');
  t.equal(await refOf(dirs[1] as string, 'refs/heads/written'), head, 'and its reference stays as it was');
  t.match(router.manager.cancel(id), { subtransactions: 3, voters: { 'gitaly-1': 'committed', 'gitaly-2': 'failed', 'gitaly-3': 'committed' } });
});

t.test('PostReceivePack: a push to all three nodes is voted through git receive-pack', async (t) => {
  const router = await startRouter(30_000);
  t.teardown(() => router.close());
  const { repos, dirs } = await newRepo();
  const work = await seedWorkRepo();
  const pushed = await git(work.dir, 'rev-parse', 'main');
  const pack = await gitOutput(work.dir, `${pushed}\n`, 'pack-objects', '--revs', '--stdout', '-q');
  const zero = '0'.repeat(40);
  const body = Buffer.concat([pktLine(`${zero} ${pushed} refs/heads/main\0report-status\n`), FLUSH_PKT, pack]);
  const id = router.manager.register(primaryQuorum(STORAGES[0], STORAGES.slice(1)));
  const reports = await Promise.all(
    repos.map(async (repository, i) => {
      const messages = await (rpcs[i] as Rpc).bidi<{ data: Buffer }>('/gitaly.SmartHTTPService/PostReceivePack', [{ repository, data: body }], metadataFor(router, id, i));
      return Buffer.concat(messages.map((m) => m.data)).toString();
    }),
  );
  for (const report of reports) t.match(report, /ok refs\/heads\/main/);
  t.same(await Promise.all(dirs.map((dir) => refOf(dir))), [pushed, pushed, pushed]);
  t.equal(await metric(router, 'committed'), 3);

  // A second push on which the primary disagrees: no quorum, receive-pack aborts everywhere.
  await git(work.dir, 'commit', '-q', '--allow-empty', '-m', 'second');
  const second = await git(work.dir, 'rev-parse', 'main');
  const secondPack = await gitOutput(work.dir, `${second}\n^${pushed}\n`, 'pack-objects', '--revs', '--stdout', '-q');
  const id2 = router.manager.register(primaryQuorum(STORAGES[0], STORAGES.slice(1)));
  const refused = await settledCodes(
    repos.map((repository, i) => {
      const target = i === 0 ? 'refs/heads/other' : 'refs/heads/main';
      const data = Buffer.concat([pktLine(`${i === 0 ? zero : pushed} ${second} ${target}\0report-status\n`), FLUSH_PKT, secondPack]);
      return (rpcs[i] as Rpc).bidi('/gitaly.SmartHTTPService/PostReceivePack', [{ repository, data }], metadataFor(router, id2, i));
    }),
  );
  t.same(refused, [grpc.status.ABORTED, grpc.status.ABORTED, grpc.status.ABORTED], 'a refused vote is a retryable ABORTED');
  t.same(await Promise.all(dirs.map((dir) => refOf(dir))), [pushed, pushed, pushed], 'main stayed where it was everywhere');
  t.equal(await refOf(dirs[0] as string, 'refs/heads/other'), undefined);
});

t.test('deleting a reference packed on one node and loose on the others is one vote everywhere', async (t) => {
  const router = await startRouter(30_000);
  t.teardown(() => router.close());
  const { repos, dirs } = await newRepo();
  await Promise.all(repos.map((repo, i) => commitFiles(i, repo, 'base\n')));
  await git(dirs[0] as string, 'pack-refs', '--all');
  const id = router.manager.register(primaryQuorum(STORAGES[0], STORAGES.slice(1)));
  const deletes = repos.map((repository, i) =>
    (rpcs[i] as Rpc).unary('/gitaly.RefService/DeleteRefs', { repository, refs: [Buffer.from('refs/heads/main')] }, metadataFor(router, id, i)),
  );
  t.same(await settledCodes(deletes), ['ok', 'ok', 'ok']);
  t.same(await Promise.all(dirs.map((dir) => refOf(dir))), [undefined, undefined, undefined]);
  t.match(router.manager.cancel(id), { subtransactions: 1, voters: { 'gitaly-1': 'committed', 'gitaly-2': 'committed', 'gitaly-3': 'committed' } });
});

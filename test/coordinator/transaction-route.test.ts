// Transactional mutators (DESIGN §10) as the cluster Router decides them,
// called directly over an in-memory cluster log and a real PostgreSQL: who
// takes part in the vote, what each node is told, and what the bump and the
// replication jobs are after the votes.
import * as grpc from '@grpc/grpc-js';
import t, { type Test } from 'tap';
import { MemoryClusterLog } from '../../src/cluster/index.js';
import { NodeDirectory } from '../../src/config/index.js';
import {
  createClusterRouter,
  PostgresCatalogue,
  secondaryVerdicts,
  transactionClassificationProblems,
  type RouterTransactions,
  type TxReplicationReason,
} from '../../src/coordinator/index.js';
import { RepositoryStore, type ReplicationJob } from '../../src/db/index.js';
import { gitalyProtocol, type MethodInfo, type MethodRegistry } from '../../src/protocol/index.js';
import type { Route, RouteRequest, Router } from '../../src/proxy/index.js';
import { ManualVoteTimers, TransactionManager, TRANSACTION_METADATA_KEY } from '../../src/transactions/index.js';
import { freshDatabase, startTestServer } from '../db/test-server.js';

const VS = 'default';
const STORAGES = ['gitaly-1', 'gitaly-2', 'gitaly-3'];
const nodes = new NodeDirectory([
  { name: VS, defaultReplicationFactor: 0, nodes: STORAGES.map((storage, i) => ({ storage, address: `127.0.0.1:${9001 + i}`, token: '' })) },
]);
const OK: grpc.StatusObject = { code: grpc.status.OK, details: '', metadata: new grpc.Metadata() };
const HASH_A = Buffer.alloc(20, 0xa);
const HASH_B = Buffer.alloc(20, 0xb);

function request(method: string, relativePath: string): RouteRequest {
  const info = gitalyProtocol().registry.get(method);
  if (info === undefined) throw new Error(`no method ${method}`);
  return { method: info, metadata: new grpc.Metadata(), repository: { storage_name: VS, relative_path: relativePath } };
}

function transactionOf(metadata: Readonly<Record<string, string>> | undefined): { id: number; node: string; primary: boolean } {
  return JSON.parse(Buffer.from(metadata?.[TRANSACTION_METADATA_KEY] ?? '', 'base64').toString('utf8')) as { id: number; node: string; primary: boolean };
}

t.test('transactional routes', async (t) => {
  const server = await startTestServer(t);

  async function setup(t: Test, healthy: Record<string, boolean> = {}) {
    const pool = await freshDatabase(t, server);
    // The jobs the router hands over, in order (the queue itself is tested in test/db).
    const queue: ReplicationJob[] = [];
    const log = new MemoryClusterLog(() => 1_000_000);
    const access = log.access('a');
    await access.propose({ type: 'health-update', reports: STORAGES.map((storage) => ({ virtualStorage: VS, storage, healthy: true })) });
    const manager = new TransactionManager({ timers: new ManualVoteTimers() });
    const reasons: TxReplicationReason[] = [];
    const transactions: RouterTransactions = {
      manager,
      voteTarget: { listenAddr: 'tcp://127.0.0.1:2305', token: 'secret' },
      settleMs: 1_000,
      maxBufferedBytes: 1 << 20,
      onReplication: (reason) => reasons.push(reason),
    };
    const router = createClusterRouter({ access, nodes, reachable: () => true, catalogue: new PostgresCatalogue(new RepositoryStore(pool)), jobs: { enqueue: async (job) => queue.push(job) }, transactions });
    await (await router(request('/gitaly.RepositoryService/CreateRepository', 'tx.git'))).onFinish?.(OK);
    const id = log.stateMachine.view.repositoryId(VS, 'tx.git')!;
    // As replication would: the secondaries reach the primary's generation.
    for (const storage of STORAGES) await access.propose({ type: 'set-replica-generation', repositoryId: id, storage, generation: 0, expectedGeneration: null });
    queue.length = 0;
    await access.propose({ type: 'health-update', reports: STORAGES.map((storage) => ({ virtualStorage: VS, storage, healthy: healthy[storage] ?? true })) });
    const generations = (): Record<string, number> => ({ ...log.stateMachine.view.repository(id)!.generations });
    return { queue, manager, router, reasons, generations, log };
  }

  /** Enqueueing runs in the background after the bump: waits for `expected` jobs, with a deadline. */
  async function jobs(queue: ReplicationJob[], expected: number): Promise<ReplicationJob[]> {
    const deadline = Date.now() + 10_000;
    while (queue.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setImmediate(r));
    return [...queue];
  }

  async function commitRoute(router: Router): Promise<Route & { fanOut: NonNullable<Route['fanOut']> }> {
    const route = await router(request('/gitaly.OperationService/UserCommitFiles', 'tx.git'));
    if (route.fanOut === undefined) throw new Error('the route does not fan out');
    return route as Route & { fanOut: NonNullable<Route['fanOut']> };
  }

  t.test('every healthy up-to-date secondary takes part, each told its own name and role', async (t) => {
    const { router, manager } = await setup(t);
    const route = await commitRoute(router);
    const primary = transactionOf(route.metadata);
    t.equal(primary.primary, true);
    t.equal(primary.node, route.fanOut.primary);
    t.same(route.fanOut.secondaries.map((s) => s.name).sort(), STORAGES.filter((s) => s !== primary.node), 'both other storages');
    for (const secondary of route.fanOut.secondaries) {
      const told = transactionOf(secondary.metadata);
      t.same(told, { id: primary.id, node: secondary.name, primary: false }, `${secondary.name} votes in the same transaction as a secondary`);
      t.equal(secondary.rewrite?.storageName, secondary.name, 'its first message names its own storage');
    }
    t.equal(manager.openCount, 1, 'one transaction registered');
    await route.onFinish?.(OK, new Map(route.fanOut.secondaries.map((s) => [s.name, OK])));
    t.equal(manager.openCount, 0, 'the transaction ends with the call');
  });

  t.test('all commit: the primary and both secondaries move together, nothing is replicated', async (t) => {
    const { router, manager, queue, generations, reasons } = await setup(t);
    const route = await commitRoute(router);
    const id = transactionOf(route.metadata).id;
    const votes = [route.fanOut.primary, ...route.fanOut.secondaries.map((s) => s.name)].map((node) => manager.vote(id, node, HASH_A));
    t.same(await Promise.all(votes), ['commit', 'commit', 'commit']);
    await route.onFinish?.(OK, new Map(route.fanOut.secondaries.map((s) => [s.name, OK])));
    t.same(Object.values(generations()), [1, 1, 1]);
    t.same(await jobs(queue, 0), [], 'no replication job');
    t.same(reasons, []);
  });

  t.test('a dissenting secondary stays behind and gets a job labelled with why', async (t) => {
    const { router, manager, queue, generations, reasons } = await setup(t);
    const route = await commitRoute(router);
    const id = transactionOf(route.metadata).id;
    const [agree, dissent] = route.fanOut.secondaries.map((s) => s.name) as [string, string];
    const answers = [manager.vote(id, route.fanOut.primary, HASH_A), manager.vote(id, agree, HASH_A), manager.vote(id, dissent, HASH_B)];
    t.same(await Promise.all(answers), ['commit', 'commit', 'abort']);
    await route.onFinish?.(OK, new Map([[agree, OK], [dissent, OK]]));
    const gens = generations();
    t.same([gens[route.fanOut.primary], gens[agree], gens[dissent]], [1, 1, 0]);
    const queued = await jobs(queue, 1);
    t.same(queued.map((j) => [j.targetStorage, j.sourceStorage, j.params?.['reason']]), [[dissent, route.fanOut.primary, 'node-not-committed']]);
    t.same(reasons, ['node-not-committed']);
  });

  t.test('a call that voted nothing replicates every secondary (no-votes)', async (t) => {
    const { router, queue, generations, reasons } = await setup(t);
    const route = await commitRoute(router);
    await route.onFinish?.(OK, new Map(route.fanOut.secondaries.map((s) => [s.name, OK])));
    t.same(Object.values(generations()).sort(), [0, 0, 1], 'only the primary moved');
    t.equal((await jobs(queue, 2)).length, 2);
    t.same(reasons, ['no-votes', 'no-votes']);
  });

  t.test('an unhealthy secondary is left out of the vote and replicated after the bump', async (t) => {
    const { router, queue, manager, reasons } = await setup(t, { 'gitaly-3': false });
    const route = await commitRoute(router);
    t.notOk(route.fanOut.secondaries.some((s) => s.name === 'gitaly-3'), 'gitaly-3 takes no part');
    const id = transactionOf(route.metadata).id;
    const voters = [route.fanOut.primary, ...route.fanOut.secondaries.map((s) => s.name)];
    await Promise.all(voters.map((node) => manager.vote(id, node, HASH_A)));
    await route.onFinish?.(OK, new Map(route.fanOut.secondaries.map((s) => [s.name, OK])));
    const queued = await jobs(queue, 1);
    t.same(queued.map((j) => [j.targetStorage, j.params?.['reason']]), [['gitaly-3', 'outdated']]);
    t.same(reasons, ['outdated']);
  });

  t.test('a failed call on which nobody voted changed nothing: its intent is dropped, no generation moves, no job', async (t) => {
    const { router, queue, generations, log } = await setup(t);
    const route = await commitRoute(router);
    const refused = { code: grpc.status.FAILED_PRECONDITION, details: 'reference update: is at X but expected Y', metadata: new grpc.Metadata() };
    await route.onFinish?.(refused, new Map(route.fanOut.secondaries.map((s) => [s.name, refused])));
    const id = log.stateMachine.view.repositoryId(VS, 'tx.git')!;
    const deadline = Date.now() + 10_000;
    while (log.stateMachine.view.repository(id)!.writeIntents.length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    t.same(log.stateMachine.view.repository(id)!.writeIntents, [], 'the intent is gone');
    t.same(Object.values(generations()), [0, 0, 0], 'every replica stays on its generation');
    t.same(await jobs(queue, 0), [], 'nothing to re-sync');
  });

  t.test('a failed secondary call is withdrawn from the vote at once', async (t) => {
    const { router, manager } = await setup(t);
    const route = await commitRoute(router);
    const id = transactionOf(route.metadata).id;
    const [first, second] = route.fanOut.secondaries.map((s) => s.name) as [string, string];
    const primaryVote = manager.vote(id, route.fanOut.primary, HASH_A);
    route.fanOut.onNodeEnd?.(first, { code: grpc.status.UNAVAILABLE, details: 'gone', metadata: new grpc.Metadata() });
    route.fanOut.onNodeEnd?.(second, { code: grpc.status.UNAVAILABLE, details: 'gone', metadata: new grpc.Metadata() });
    t.equal(await primaryVote, 'abort', 'with both secondaries gone no quorum is possible: the primary is answered without waiting for a timeout');
    await route.onFinish?.({ code: grpc.status.ABORTED, details: 'refused', metadata: new grpc.Metadata() }, new Map());
  });
});

t.test('secondaryVerdicts follows upstream’s rules', async (t) => {
  const ok = (storages: string[]): Map<string, grpc.StatusObject> => new Map(storages.map((s) => [s, OK]));
  const summary = (subtransactions: number, voters: Record<string, 'committed' | 'failed' | 'cancelled'>) => ({ id: 1, state: 'cancelled' as const, subtransactions, voters, voted: Object.keys(voters) });
  t.same([...secondaryVerdicts(summary(0, {}), 'p', ['s1'], ok(['s1']))], [['s1', 'no-votes']]);
  t.same([...secondaryVerdicts(summary(1, { p: 'failed', s1: 'committed' }), 'p', ['s1'], ok(['s1']))], [['s1', 'primary-not-committed']]);
  t.same([...secondaryVerdicts(summary(1, { p: 'committed', s1: 'committed' }), 'p', ['s1'], new Map())], [['s1', 'node-error-status']], 'a secondary without a status failed');
  t.same([...secondaryVerdicts(summary(1, { p: 'committed', s1: 'cancelled' }), 'p', ['s1'], ok(['s1']))], [['s1', 'node-not-committed']]);
  t.same([...secondaryVerdicts(summary(2, { p: 'committed', s1: 'committed' }), 'p', ['s1'], ok(['s1']))], [['s1', 'updated']]);
});

t.test('every repository mutator is either transactional or exempt', async (t) => {
  t.same(transactionClassificationProblems(gitalyProtocol().registry), [], 'the registry is fully classified');
  const added: MethodInfo = { ...gitalyProtocol().registry.get('/gitaly.RepositoryService/WriteRef')!, path: '/gitaly.RepositoryService/NewMutator', method: 'NewMutator' };
  const registry = { all: () => [...gitalyProtocol().registry.all(), added] } as unknown as MethodRegistry;
  t.same(
    transactionClassificationProblems(registry).map((p) => p.path),
    ['/gitaly.RepositoryService/NewMutator'],
    'a new mutator is refused until it is classified',
  );
});

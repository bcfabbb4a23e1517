// The worker over real storage nodes, a real PostgreSQL queue and the
// in-memory cluster log: copies, generations, retries, moot and stale jobs.
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import t, { type Test } from 'tap';
import { Registry } from 'prom-client';
import type { BodyOf, ClusterAccess, CommandBody } from '../../src/cluster/index.js';
import { Reconciler, ReplicationWorker, type JobReport, type ReplicationWorkerOptions } from '../../src/replication/index.js';
import { freshDatabase, startTestServer } from '../db/test-server.js';
import { startInProcessNode } from '../gitaly/fixtures/node.js';
import { Rpc } from '../gitaly/fixtures/rpc.js';
import { closedPort, eventually, newCluster, startStorageNodes, TestCluster, VIRTUAL_STORAGE } from './fixtures.js';

const server = await startTestServer(t);
const nodes = await startStorageNodes(t);

function worker(t: Test, cluster: TestCluster, options: Partial<ReplicationWorkerOptions> = {}): { worker: ReplicationWorker; reports: JobReport[] } {
  const w = new ReplicationWorker({
    access: cluster.a,
    queue: cluster.queue,
    directory: cluster.directory,
    config: { batchSize: 10, parallelStorageProcessingWorkers: 2 },
    pollIntervalMs: 50,
    nodeCallTimeoutMs: 30_000,
    ...options,
  });
  const reports: JobReport[] = [];
  w.onJobFinished((report) => reports.push(report));
  t.teardown(() => w.stop());
  return { worker: w, reports };
}

t.test('reconciler schedules, worker copies the primary to both secondaries and records their generations', async (t) => {
  const cluster = await newCluster(t, server, nodes);
  const { repositoryId, replicaPath } = await cluster.createRepository('group/project.git');
  const commit = await cluster.commitOn('gitaly-1', replicaPath, 'README.md', 'hello\n');
  t.equal(await cluster.bump(repositoryId, 'gitaly-1', 0), 1);
  const before = await cluster.checksum('gitaly-2', replicaPath);
  t.not(await cluster.checksum('gitaly-1', replicaPath), before, 'the write is on the primary only');

  const reconciler = new Reconciler({ access: cluster.a, queue: cluster.queue, config: { schedulingIntervalMs: 0 } });
  const pass = await reconciler.runOnce();
  t.match(pass, { leader: true, enqueued: 2, resolvedIntents: 0 });
  t.same(
    (await cluster.queueRows()).map((r) => [r.state, r.source, r.target]),
    [
      ['ready', 'gitaly-1', 'gitaly-2'],
      ['ready', 'gitaly-1', 'gitaly-3'],
    ],
  );
  t.match(await reconciler.runOnce(), { enqueued: 0, alreadyQueued: 2 }, 'a second pass folds into the waiting jobs');

  const registry = new Registry();
  const { worker: w, reports } = worker(t, cluster, { registry });
  t.equal(await w.runOnce(), 2);
  t.same(reports.map((r) => [r.outcome, r.done?.result]), [
    ['completed', 'replicated'],
    ['completed', 'replicated'],
  ]);
  const primarySum = await cluster.checksum('gitaly-1', replicaPath);
  t.equal(await cluster.checksum('gitaly-2', replicaPath), primarySum);
  t.equal(await cluster.checksum('gitaly-3', replicaPath), primarySum);
  t.same(cluster.generations(repositoryId), { 'gitaly-1': 1, 'gitaly-2': 1, 'gitaly-3': 1 });
  t.same(await cluster.queueRows(), [], 'completed jobs leave the queue');
  t.same(cluster.a.view.outdatedReplicas(repositoryId), []);
  const headOnSecondary = await cluster.node('gitaly-3').rpc.unary<{ name: Buffer }>('/gitaly.RefService/FindDefaultBranchName', {
    repository: { storage_name: 'gitaly-3', relative_path: replicaPath },
  });
  t.equal(headOnSecondary.name.toString(), 'refs/heads/main');
  t.ok(commit.length === 40);
  const latency = await registry.getSingleMetric('gitaly_praefect_replication_latency')?.get();
  const counts = (latency?.values ?? []) as Array<{ metricName?: string; value: number; labels: Record<string, string | number> }>;
  t.same(
    counts.filter((v) => v.metricName === 'gitaly_praefect_replication_latency_count').map((v) => `${v.labels['target_storage']}=${v.value}`)
      .sort(),
    ['gitaly-2=1', 'gitaly-3=1'],
    'one latency sample per target',
  );
  t.match(await reconciler.runOnce(), { enqueued: 0, alreadyQueued: 0 }, 'nothing is outdated any more');
});

t.test('a target nobody can reach fails, retries after the backoff, and goes dead after max attempts', async (t) => {
  const port = await closedPort();
  const cluster = await newCluster(t, server, nodes, {
    extraNodes: [{ storage: 'gitaly-4', address: `tcp://127.0.0.1:${port}` }],
    queue: { maxAttempts: 3, backoffBaseMs: 300, backoffMaxMs: 500 },
  });
  const { repositoryId, replicaPath } = await cluster.createRepository('unreachable.git');
  const { id } = await cluster.queue.enqueue({
    changeType: 'update',
    repositoryId,
    virtualStorage: VIRTUAL_STORAGE,
    relativePath: 'unreachable.git',
    replicaPath,
    sourceStorage: 'gitaly-1',
    targetStorage: 'gitaly-4',
  });

  const blind = worker(t, cluster, { reachable: (_vs, storage) => storage !== 'gitaly-4' });
  t.equal(await blind.worker.runOnce(), 0, 'a worker whose prober cannot reach the target does not claim its jobs');
  t.match(await cluster.queue.get(id), { state: 'ready', attemptsMade: 0 });

  const { worker: w, reports } = worker(t, cluster);
  const attemptsStartedMs: number[] = [];
  w.onJobFinished(() => attemptsStartedMs.push(Date.now()));
  w.start();
  const dead = await eventually('the job to go dead', async () => {
    const job = await cluster.queue.get(id);
    return job?.state === 'dead' ? job : undefined;
  });
  t.equal(dead.attemptsMade, 3);
  t.match(dead.lastError, /REPLICATION_NODE_CALL_FAILED.*UNAVAILABLE/);
  t.same(reports.map((r) => r.outcome), ['failed', 'failed', 'failed'], 'the queue turns the last failure dead');
  const [first = 0, second = 0, third = 0] = attemptsStartedMs;
  t.ok(second - first >= 250, `second attempt waited out the first backoff (${second - first} ms)`);
  t.ok(third - second >= 450, `third attempt waited out the doubled, capped backoff (${third - second} ms)`);
  t.same(await cluster.queue.deadCounts(), [{ virtualStorage: VIRTUAL_STORAGE, targetStorage: 'gitaly-4', count: 1 }]);
  t.equal(cluster.generations(repositoryId)['gitaly-4'], undefined, 'no generation was recorded');
});

t.test('a target already brought up to date counts as done, without a copy', async (t) => {
  const cluster = await newCluster(t, server, nodes);
  const { repositoryId, replicaPath } = await cluster.createRepository('up-to-date.git');
  await cluster.queue.enqueue({ changeType: 'update', repositoryId, virtualStorage: VIRTUAL_STORAGE, relativePath: 'x', replicaPath, sourceStorage: 'gitaly-1', targetStorage: 'gitaly-2' });
  // The target took a write of its own that no generation accounts for; a copy would wipe it.
  const own = await cluster.commitOn('gitaly-2', replicaPath, 'own.txt', 'mine\n');
  const sumBefore = await cluster.checksum('gitaly-2', replicaPath);
  const { worker: w, reports } = worker(t, cluster);
  t.equal(await w.runOnce(), 1);
  t.match(reports[0], { outcome: 'completed', done: { result: 'up-to-date', generation: 0 } });
  t.equal(await cluster.checksum('gitaly-2', replicaPath), sumBefore, 'the target was not touched');
  t.ok(own.length === 40);
  t.same(await cluster.queueRows(), []);
});

t.test('a conflicting generation already at the source generation counts as done', async (t) => {
  const cluster = await newCluster(t, server, nodes);
  const { repositoryId, replicaPath } = await cluster.createRepository('race.git');
  await cluster.commitOn('gitaly-1', replicaPath, 'a.txt', 'a\n');
  await cluster.bump(repositoryId, 'gitaly-1', 0);
  await cluster.queue.enqueue({ changeType: 'update', repositoryId, virtualStorage: VIRTUAL_STORAGE, relativePath: 'x', replicaPath, sourceStorage: 'gitaly-1', targetStorage: 'gitaly-2' });
  // Another router's job for the same target records its generation while ours copies.
  const racing = racingAccess(cluster.a);
  const { worker: w, reports } = worker(t, cluster, { access: racing });
  t.equal(await w.runOnce(), 1);
  t.match(reports[0], { outcome: 'completed', done: { result: 'up-to-date', generation: 1 } });
  t.equal(cluster.generations(repositoryId)['gitaly-2'], 1);
  t.equal(await cluster.checksum('gitaly-2', replicaPath), await cluster.checksum('gitaly-1', replicaPath));
});

t.test('a conflict below the source generation fails the attempt', async (t) => {
  const cluster = await newCluster(t, server, nodes);
  const { repositoryId, replicaPath } = await cluster.createRepository('conflict.git');
  await cluster.commitOn('gitaly-1', replicaPath, 'a.txt', 'a\n');
  await cluster.bump(repositoryId, 'gitaly-1', 0);
  const { id } = await cluster.queue.enqueue({ changeType: 'update', repositoryId, virtualStorage: VIRTUAL_STORAGE, relativePath: 'x', replicaPath, sourceStorage: 'gitaly-1', targetStorage: 'gitaly-2' });
  // Someone deletes and recreates the record of the target between read and CAS: expected -1 no longer matches 0.
  const { worker: w, reports } = worker(t, cluster, { access: expectationBreaker(cluster.a) });
  t.equal(await w.runOnce(), 1);
  t.match(reports[0], { outcome: 'failed', error: { code: 'REPLICATION_GENERATION_CONFLICT' } });
  t.match(await cluster.queue.get(id), { state: 'failed', attemptsMade: 1 });
});

t.test("a deleted repository's job completes as moot", async (t) => {
  const cluster = await newCluster(t, server, nodes);
  const { repositoryId, replicaPath } = await cluster.createRepository('deleted.git');
  await cluster.queue.enqueue({ changeType: 'update', repositoryId, virtualStorage: VIRTUAL_STORAGE, relativePath: 'x', replicaPath, sourceStorage: 'gitaly-1', targetStorage: 'gitaly-3' });
  t.match(await cluster.a.propose({ type: 'delete-repository', repositoryId }), { status: 'ok' });
  const { worker: w, reports } = worker(t, cluster);
  t.equal(await w.runOnce(), 1);
  t.match(reports[0], { outcome: 'completed', done: { result: 'moot' } });
  t.same(await cluster.queueRows(), []);
});

t.test('a source that fell behind is replaced by a healthy replica on the latest generation', async (t) => {
  const cluster = await newCluster(t, server, nodes);
  const { repositoryId, replicaPath } = await cluster.createRepository('source.git');
  await cluster.commitOn('gitaly-1', replicaPath, 'a.txt', 'a\n');
  await cluster.bump(repositoryId, 'gitaly-1', 0);
  await cluster.queue.enqueue({ changeType: 'update', repositoryId, virtualStorage: VIRTUAL_STORAGE, relativePath: 'x', replicaPath, sourceStorage: 'gitaly-2', targetStorage: 'gitaly-3' });
  const { worker: w, reports } = worker(t, cluster);
  t.equal(await w.runOnce(), 1);
  t.match(reports[0], { outcome: 'completed', done: { result: 'replicated', source: 'gitaly-1', generation: 1 } });
  t.equal(await cluster.checksum('gitaly-3', replicaPath), await cluster.checksum('gitaly-1', replicaPath));
  t.equal(cluster.generations(repositoryId)['gitaly-3'], 1);
});

t.test('delete_replica removes the replica; a missing replica counts as removed; rename is dead at once', async (t) => {
  const cluster = await newCluster(t, server, nodes);
  const { repositoryId, replicaPath } = await cluster.createRepository('remove.git');
  const job = { changeType: 'delete_replica' as const, repositoryId, virtualStorage: VIRTUAL_STORAGE, relativePath: 'x', replicaPath, targetStorage: 'gitaly-3' };
  await cluster.queue.enqueue(job);
  const { worker: w, reports } = worker(t, cluster);
  t.equal(await w.runOnce(), 1);
  t.match(reports[0], { outcome: 'completed', done: { result: 'removed' } });
  const exists = await cluster.node('gitaly-3').rpc.unary<{ exists: boolean }>('/gitaly.RepositoryService/RepositoryExists', {
    repository: { storage_name: 'gitaly-3', relative_path: replicaPath },
  });
  t.equal(exists.exists, false);
  await cluster.queue.enqueue(job);
  t.equal(await w.runOnce(), 1);
  t.match(reports[1], { outcome: 'completed', done: { result: 'already-removed' } });

  const { id } = await cluster.queue.enqueue({ ...job, changeType: 'rename', params: { to: 'elsewhere' } });
  t.equal(await w.runOnce(), 1);
  t.match(await cluster.queue.get(id), { state: 'dead', lastError: /REPLICATION_UNSUPPORTED_CHANGE/ });
});

t.test('a claim swept from a stopped worker comes back and is done by another', async (t) => {
  const cluster = await newCluster(t, server, nodes);
  const { repositoryId, replicaPath } = await cluster.createRepository('swept.git');
  await cluster.commitOn('gitaly-1', replicaPath, 'a.txt', 'a\n');
  await cluster.bump(repositoryId, 'gitaly-1', 0);
  const { id } = await cluster.queue.enqueue({ changeType: 'update', repositoryId, virtualStorage: VIRTUAL_STORAGE, relativePath: 'x', replicaPath, sourceStorage: 'gitaly-1', targetStorage: 'gitaly-2' });
  // A worker that claimed the job and then died: its claim is never heartbeated.
  const [claim] = await cluster.queue.dequeue({ virtualStorage: VIRTUAL_STORAGE, targets: ['gitaly-2'] });
  t.equal(claim?.id, id);
  const { worker: w, reports } = worker(t, cluster, { staleAfterMs: 1_000, sweepIntervalMs: 100, heartbeatIntervalMs: 100 });
  w.start();
  await eventually('the swept job to be done', () => reports.find((r) => r.job.id === id && r.outcome === 'completed'));
  t.equal(cluster.generations(repositoryId)['gitaly-2'], 1);
  t.same(await cluster.queueRows(), []);
});

t.test('claims are bounded by the per-target parallelism and by the batch size', async (t) => {
  const cluster = await newCluster(t, server, nodes);
  for (let i = 0; i < 5; i += 1) {
    const { repositoryId, replicaPath } = await cluster.createRepository(`bounded-${i}.git`);
    await cluster.commitOn('gitaly-1', replicaPath, 'a.txt', `${i}\n`);
    await cluster.bump(repositoryId, 'gitaly-1', 0);
    await cluster.queue.enqueue({ changeType: 'update', repositoryId, virtualStorage: VIRTUAL_STORAGE, relativePath: 'x', replicaPath, sourceStorage: 'gitaly-1', targetStorage: 'gitaly-2' });
  }
  const narrow = worker(t, cluster, { config: { batchSize: 10, parallelStorageProcessingWorkers: 2 } });
  t.equal(await narrow.worker.runOnce(), 2, 'two per target at once');
  const smallBatch = worker(t, cluster, { config: { batchSize: 1, parallelStorageProcessingWorkers: 10 } });
  t.equal(await smallBatch.worker.runOnce(), 1, 'one per claim round');
  const wide = worker(t, cluster, { config: { batchSize: 10, parallelStorageProcessingWorkers: 10 } });
  t.equal(await wide.worker.runOnce(), 2, 'the rest');
  t.same(await cluster.queueRows(), []);
});

t.test('a node that accepts connections but never answers fails the attempt at the call timeout', async (t) => {
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        silent.close(() => resolve());
      }),
  );
  const port = (silent.address() as net.AddressInfo).port;
  const cluster = await newCluster(t, server, nodes, { extraNodes: [{ storage: 'gitaly-4', address: `tcp://127.0.0.1:${port}` }] });
  const { repositoryId, replicaPath } = await cluster.createRepository('silent.git');
  await cluster.queue.enqueue({ changeType: 'update', repositoryId, virtualStorage: VIRTUAL_STORAGE, relativePath: 'x', replicaPath, sourceStorage: 'gitaly-1', targetStorage: 'gitaly-4' });
  const { worker: w, reports } = worker(t, cluster, { nodeCallTimeoutMs: 300 });
  const started = Date.now();
  t.equal(await w.runOnce(), 1);
  const tookMs = Date.now() - started;
  t.match(reports[0], { outcome: 'failed', error: { code: 'REPLICATION_NODE_CALL_FAILED', grpcCode: grpc.status.DEADLINE_EXCEEDED } });
  t.ok(tookMs >= 250 && tookMs < 5000, `gave up after ${tookMs} ms`);

  // stop() lets a running job finish within its grace, then cancels it and leaves it to the sweep.
  const second = await cluster.createRepository('silent-2.git');
  const { id } = await cluster.queue.enqueue({ changeType: 'update', repositoryId: second.repositoryId, virtualStorage: VIRTUAL_STORAGE, relativePath: 'x', replicaPath: second.replicaPath, sourceStorage: 'gitaly-1', targetStorage: 'gitaly-4' });
  const stopping = worker(t, cluster, { nodeCallTimeoutMs: 60_000, stopGraceMs: 200 });
  stopping.worker.start();
  await eventually('the job to be claimed', () => stopping.worker.inFlight === 1);
  const stopStarted = Date.now();
  await stopping.worker.stop();
  const stopMs = Date.now() - stopStarted;
  t.ok(stopMs >= 150 && stopMs < 5000, `stop() took ${stopMs} ms`);
  t.match(stopping.reports, [{ outcome: 'abandoned' }]);
  t.match(await cluster.queue.get(id), { state: 'in_progress' }, 'unacknowledged: the sweep returns it');

  // A claim swept away from a live worker (another router judged it stale): its next heartbeat cancels the job.
  const third = await cluster.createRepository('silent-3.git');
  const lost = await cluster.queue.enqueue({ changeType: 'update', repositoryId: third.repositoryId, virtualStorage: VIRTUAL_STORAGE, relativePath: 'x', replicaPath: third.replicaPath, sourceStorage: 'gitaly-1', targetStorage: 'gitaly-4' });
  const holder = worker(t, cluster, { nodeCallTimeoutMs: 60_000, heartbeatIntervalMs: 50, sweepIntervalMs: 3_600_000, stopGraceMs: 100 });
  holder.worker.start();
  await eventually('the job to be claimed', () => holder.worker.inFlight === 1);
  await holder.worker.heartbeat();
  t.equal(holder.reports.length, 0, 'a held claim survives its heartbeat');
  await cluster.queue.sweepStale(0);
  const abandoned = await eventually('the job to be cancelled', () => holder.reports.find((r) => r.job.id === lost.id));
  t.equal(abandoned.outcome, 'abandoned');
  t.match(
    await cluster.queue.get(lost.id),
    { state: /^(ready|in_progress)$/, lastError: 'the worker stopped sending heartbeats' },
    'the sweep returned it (to be claimed again), and the cancelled attempt was not acknowledged as a failure',
  );
});

t.test('nodes with tokens: the worker authenticates to the target and hands it the source token', async (t) => {
  const secured = await Promise.all(
    ['secure-1', 'secure-2'].map(async (storage) => {
      const node = await startInProcessNode({ storages: [storage], token: `secret-${storage}` });
      return { storage, node, rpc: new Rpc(node.address, `secret-${storage}`) };
    }),
  );
  t.teardown(async () => {
    for (const n of secured) n.rpc.close();
    await Promise.all(secured.map((n) => n.node.close()));
  });
  const pool = await freshDatabase(t, server);
  const vs = { name: VIRTUAL_STORAGE, defaultReplicationFactor: 0, nodes: secured.map((n) => ({ storage: n.storage, address: `tcp://${n.node.address}`, token: `secret-${n.storage}` })) };
  const cluster = new TestCluster(pool, secured, vs);
  await cluster.reportHealthy('router-a');
  const { repositoryId, replicaPath } = await cluster.createRepository('secured.git');
  await cluster.commitOn('secure-1', replicaPath, 'a.txt', 'a\n');
  await cluster.bump(repositoryId, 'secure-1', 0);
  await cluster.queue.enqueue({ changeType: 'update', repositoryId, virtualStorage: VIRTUAL_STORAGE, relativePath: 'x', replicaPath, sourceStorage: 'secure-1', targetStorage: 'secure-2' });
  const { worker: w, reports } = worker(t, cluster);
  t.equal(await w.runOnce(), 1);
  t.match(reports[0], { outcome: 'completed', done: { result: 'replicated' } });
  t.equal(await cluster.checksum('secure-2', replicaPath), await cluster.checksum('secure-1', replicaPath));

  const wrong = new TestCluster(await freshDatabase(t, server), secured, { ...vs, nodes: vs.nodes.map((n) => ({ ...n, token: 'wrong' })) });
  await wrong.reportHealthy('router-a');
  await wrong.queue.enqueue({ changeType: 'delete_replica', repositoryId, virtualStorage: VIRTUAL_STORAGE, relativePath: 'x', replicaPath, targetStorage: 'secure-2' });
  const rejected = worker(t, wrong);
  t.equal(await rejected.worker.runOnce(), 1);
  t.match(rejected.reports[0], { outcome: 'failed', error: { grpcCode: grpc.status.PERMISSION_DENIED } });
});

t.test('options are checked', async (t) => {
  const cluster = await newCluster(t, server, nodes);
  t.throws(() => worker(t, cluster, { config: { batchSize: 0, parallelStorageProcessingWorkers: 1 } }), { code: 'REPLICATION_BAD_OPTIONS' });
  t.throws(() => worker(t, cluster, { config: { batchSize: 1, parallelStorageProcessingWorkers: 0 } }), { code: 'REPLICATION_BAD_OPTIONS' });
});

/** The real access, but another job sets the same generation just before ours proposes. */
function racingAccess(access: ClusterAccess): ClusterAccess {
  return {
    routerName: access.routerName,
    view: access.view,
    fresh: () => access.fresh(),
    isLeader: () => access.isLeader(),
    async propose<B extends CommandBody>(body: B) {
      if (body.type === 'set-replica-generation') {
        await access.propose({ ...(body as BodyOf<'set-replica-generation'>), expectedGeneration: null });
      }
      return access.propose(body);
    },
  };
}

/** The real access, but the CAS expects a generation the target never had. */
function expectationBreaker(access: ClusterAccess): ClusterAccess {
  return {
    routerName: access.routerName,
    view: access.view,
    fresh: () => access.fresh(),
    isLeader: () => access.isLeader(),
    propose<B extends CommandBody>(body: B) {
      if (body.type !== 'set-replica-generation') return access.propose(body);
      return access.propose({ ...(body as BodyOf<'set-replica-generation'>), expectedGeneration: -1 } as unknown as B);
    },
  };
}

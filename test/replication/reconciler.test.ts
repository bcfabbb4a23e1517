// The reconciler: leader only, stale write intents of dead routers, bounded
// passes, and the periodic loop.
import t from 'tap';
import { Reconciler, ReplicationWorker } from '../../src/replication/index.js';
import { startTestServer } from '../db/test-server.js';
import { eventually, newCluster, startStorageNodes } from './fixtures.js';

const server = await startTestServer(t);
const nodes = await startStorageNodes(t);

t.test('a stale write intent of an inactive router is resolved and its repair scheduled', async (t) => {
  const cluster = await newCluster(t, server, nodes);
  await cluster.reportHealthy('router-b');
  await cluster.reportHealthy('router-c');
  const { repositoryId, replicaPath } = await cluster.createRepository('intent.git');
  const b = cluster.log.access('router-b');
  t.match(await b.propose({ type: 'record-write-intent', repositoryId, intentId: 'intent-1', primary: 'gitaly-1', generation: 0 }), {
    status: 'ok',
  });
  // router-b forwards the write to the primary, then dies before the bump.
  await cluster.commitOn('gitaly-1', replicaPath, 'lost.txt', 'acknowledged nowhere\n');
  const reconciler = new Reconciler({ access: cluster.a, queue: cluster.queue, config: { schedulingIntervalMs: 0 }, staleIntentAgeMs: 1000 });

  cluster.nowMs += 2000;
  await cluster.reportHealthy('router-a');
  await cluster.reportHealthy('router-c');
  t.equal(cluster.a.view.staleWriteIntents(1000).length, 1, 'the intent is old enough');
  t.match(await reconciler.runOnce(), { leader: true, resolvedIntents: 0, enqueued: 0 }, 'router-b is still active: its write may yet be bumped');

  cluster.nowMs += 60_000;
  await cluster.reportHealthy('router-a');
  await cluster.reportHealthy('router-c');
  t.equal(cluster.a.view.routers().find((r) => r.router === 'router-b')?.active, false);
  const pass = await reconciler.runOnce();
  t.match(pass, { leader: true, resolvedIntents: 1, enqueued: 2, errors: 0 });
  t.same(cluster.generations(repositoryId), { 'gitaly-1': 1, 'gitaly-2': 0, 'gitaly-3': 0 }, 'the primary is authoritative');
  t.same(cluster.a.view.repository(repositoryId)?.writeIntents, []);
  t.same(
    (await cluster.queueRows()).map((r) => [r.source, r.target]),
    [
      ['gitaly-1', 'gitaly-2'],
      ['gitaly-1', 'gitaly-3'],
    ],
  );

  const worker = new ReplicationWorker({
    access: cluster.a,
    queue: cluster.queue,
    directory: cluster.directory,
    config: { batchSize: 10, parallelStorageProcessingWorkers: 1 },
  });
  t.teardown(() => worker.stop());
  t.equal(await worker.runOnce(), 2);
  const primarySum = await cluster.checksum('gitaly-1', replicaPath);
  t.equal(await cluster.checksum('gitaly-2', replicaPath), primarySum);
  t.equal(await cluster.checksum('gitaly-3', replicaPath), primarySum);
  t.same(cluster.generations(repositoryId), { 'gitaly-1': 1, 'gitaly-2': 1, 'gitaly-3': 1 });
  t.match(await reconciler.runOnce(), { resolvedIntents: 0, enqueued: 0 }, 'nothing left to do');
});

t.test('the reconciler does nothing while it is not the leader, and its loop starts when it becomes one', async (t) => {
  const cluster = await newCluster(t, server, nodes);
  const { repositoryId, replicaPath } = await cluster.createRepository('leader.git');
  await cluster.commitOn('gitaly-1', replicaPath, 'a.txt', 'a\n');
  await cluster.bump(repositoryId, 'gitaly-1', 0);
  cluster.log.setLeader('router-b');
  const reconciler = new Reconciler({ access: cluster.a, queue: cluster.queue, config: { schedulingIntervalMs: 50 } });
  t.teardown(() => reconciler.stop());
  t.match(await reconciler.runOnce(), { leader: false, enqueued: 0 });
  reconciler.start();
  // Several intervals pass without the leadership: still nothing queued.
  const passes: boolean[] = [];
  await eventually('three passes as a follower', async () => {
    passes.push((await reconciler.runOnce()).leader);
    return passes.length >= 3;
  });
  t.same(passes, [false, false, false]);
  t.same(await cluster.queueRows(), []);
  cluster.log.setLeader('router-a');
  const rows = await eventually('the loop to schedule jobs', async () => {
    const found = await cluster.queueRows();
    return found.length === 2 ? found : undefined;
  });
  t.same(rows.map((r) => r.target), ['gitaly-2', 'gitaly-3']);
  await reconciler.stop();
});

t.test('a pass is bounded, and the next pass continues where it stopped', async (t) => {
  const cluster = await newCluster(t, server, nodes);
  const ids: number[] = [];
  for (const name of ['b1.git', 'b2.git', 'b3.git']) {
    const { repositoryId, replicaPath } = await cluster.createRepository(name);
    await cluster.commitOn('gitaly-1', replicaPath, 'a.txt', 'a\n');
    await cluster.bump(repositoryId, 'gitaly-1', 0);
    ids.push(repositoryId);
  }
  const reconciler = new Reconciler({ access: cluster.a, queue: cluster.queue, config: { schedulingIntervalMs: 0 }, maxJobsPerPass: 4 });
  t.match(await reconciler.runOnce(), { enqueued: 4, truncated: true });
  t.match(await reconciler.runOnce(), { enqueued: 2 }, 'the second pass reaches the third repository');
  const rows = await cluster.queueRows();
  t.equal(rows.length, 6);
  t.equal(new Set(rows.map((r) => r.target)).size, 2);
});

t.test('an outdated replica that is unhealthy, or has no healthy source, is not scheduled', async (t) => {
  const cluster = await newCluster(t, server, nodes);
  const { repositoryId, replicaPath } = await cluster.createRepository('unhealthy.git');
  await cluster.commitOn('gitaly-1', replicaPath, 'a.txt', 'a\n');
  await cluster.bump(repositoryId, 'gitaly-1', 0);
  await cluster.log.propose('router-a', { type: 'health-update', reports: [{ virtualStorage: 'default', storage: 'gitaly-3', healthy: false }] });
  const reconciler = new Reconciler({ access: cluster.a, queue: cluster.queue, config: { schedulingIntervalMs: 0 } });
  t.match(await reconciler.runOnce(), { enqueued: 1 });
  t.same((await cluster.queueRows()).map((r) => r.target), ['gitaly-2']);
  await cluster.log.propose('router-a', { type: 'health-update', reports: [{ virtualStorage: 'default', storage: 'gitaly-1', healthy: false }, { virtualStorage: 'default', storage: 'gitaly-3', healthy: true }] });
  t.match(await reconciler.runOnce(), { enqueued: 0, withoutSource: 2 });
});

t.test('options are checked', async (t) => {
  const cluster = await newCluster(t, server, nodes);
  t.throws(() => new Reconciler({ access: cluster.a, queue: cluster.queue, config: { schedulingIntervalMs: -1 } }), { code: 'REPLICATION_BAD_OPTIONS' });
  t.throws(() => new Reconciler({ access: cluster.a, queue: cluster.queue, config: { schedulingIntervalMs: 0 }, maxJobsPerPass: 0 }), { code: 'REPLICATION_BAD_OPTIONS' });
});

// The replication queue on a real server: dedup, ordering, per-replica
// exclusion under concurrent workers, retries with backoff, dead jobs,
// heartbeats and the sweep of stale claims.
import t, { type Test } from 'tap';
import {
  ReplicationQueue,
  deriveReplicaPath,
  type ClaimedJob,
  type DatabasePool,
  type ReplicationJob,
} from '../../src/db/index.js';
import { dequeueStatement } from '../../src/db/replication-queue.js';
import { freshDatabase, sleep, startTestServer } from './test-server.js';

const server = await startTestServer(t);

function job(repositoryId: number, target: string, extra: Partial<ReplicationJob> = {}): ReplicationJob {
  return {
    changeType: 'update',
    repositoryId,
    virtualStorage: 'default',
    relativePath: `repo-${repositoryId}.git`,
    replicaPath: deriveReplicaPath(repositoryId),
    sourceStorage: 'gitaly-1',
    targetStorage: target,
    ...extra,
  };
}

async function queueOn(t: Test, options = {}): Promise<{ queue: ReplicationQueue; pool: DatabasePool }> {
  const pool = await freshDatabase(t, server, { maxConnections: 12 });
  return { queue: new ReplicationQueue(pool, options), pool };
}

const ALL = { virtualStorage: 'default', targets: ['gitaly-2', 'gitaly-3'] };

t.test('enqueue is idempotent for an equal ready job only', async (t) => {
  const { queue } = await queueOn(t);
  const first = await queue.enqueue(job(1, 'gitaly-2'));
  t.equal(first.created, true);
  t.same(await queue.enqueue(job(1, 'gitaly-2')), { id: first.id, created: false }, 'an equal ready job is reused');
  t.same(
    await queue.enqueue(job(1, 'gitaly-2', { params: {} })),
    { id: first.id, created: false },
    'absent params equal empty params',
  );
  const distinct = [
    job(1, 'gitaly-3'),
    job(2, 'gitaly-2'),
    job(1, 'gitaly-2', { sourceStorage: 'gitaly-3' }),
    job(1, 'gitaly-2', { changeType: 'delete_replica', sourceStorage: undefined }),
    job(1, 'gitaly-2', { changeType: 'rename', params: { to: 'b.git' } }),
    job(1, 'gitaly-2', { changeType: 'rename', params: { to: 'c.git' } }),
  ];
  for (const j of distinct) t.equal((await queue.enqueue(j)).created, true, JSON.stringify(j).slice(0, 80));
  t.equal((await queue.enqueue(job(1, 'gitaly-2', { changeType: 'delete_replica', sourceStorage: undefined }))).created, false);

  // Once the job is claimed, a new write needs a new job.
  const [claimed] = await queue.dequeue({ virtualStorage: 'default', targets: ['gitaly-2'] });
  t.equal(claimed?.id, first.id);
  t.equal((await queue.enqueue(job(1, 'gitaly-2'))).created, true, 'equal to an in-progress job: queued anew');
});

t.test('concurrent equal enqueues create exactly one job', async (t) => {
  const { queue } = await queueOn(t);
  const results = await Promise.all(Array.from({ length: 20 }, () => queue.enqueue(job(7, 'gitaly-2'))));
  t.equal(results.filter((r) => r.created).length, 1);
  t.equal(new Set(results.map((r) => r.id)).size, 1);
});

t.test('dequeue serves only the given healthy targets of the virtual storage, oldest first', async (t) => {
  const { queue } = await queueOn(t);
  const a = await queue.enqueue(job(1, 'gitaly-2'));
  const unhealthy = await queue.enqueue(job(2, 'gitaly-9'));
  const b = await queue.enqueue(job(3, 'gitaly-3'));
  await queue.enqueue(job(4, 'gitaly-2', { virtualStorage: 'other' }));
  const c = await queue.enqueue(job(5, 'gitaly-2'));
  t.same(await queue.dequeue({ virtualStorage: 'default', targets: [] }), []);
  const claimed = await queue.dequeue({ ...ALL, limit: 10 });
  t.same(
    claimed.map((j) => j.id),
    [a.id, b.id, c.id],
  );
  const first = claimed[0] as ClaimedJob;
  t.match(first, {
    state: 'in_progress',
    attemptsLeft: 2,
    attemptsMade: 1,
    changeType: 'update',
    repositoryId: 1,
    sourceStorage: 'gitaly-1',
    targetStorage: 'gitaly-2',
    lockKey: 'default|gitaly-2|1',
  });
  t.type(first.claimToken, 'string');
  t.ok(first.heartbeatAt instanceof Date);
  t.equal((await queue.get(unhealthy.id))?.state, 'ready', 'the unhealthy target keeps its job');
  const limited = await queue.dequeue({ virtualStorage: 'other', targets: ['gitaly-2'], limit: 1 });
  t.equal(limited.length, 1);
});

t.test('one job per target replica at a time; the next one after acknowledgement', async (t) => {
  const { queue } = await queueOn(t);
  const update = await queue.enqueue(job(1, 'gitaly-2'));
  const rename = await queue.enqueue(job(1, 'gitaly-2', { changeType: 'rename', params: { to: 'x.git' } }));
  const otherTarget = await queue.enqueue(job(1, 'gitaly-3'));
  const first = await queue.dequeue({ ...ALL, limit: 10 });
  t.same(
    first.map((j) => j.id),
    [update.id, otherTarget.id],
    'the rename waits behind the update on the same replica',
  );
  t.same(await queue.dequeue({ ...ALL, limit: 10 }), [], 'nothing else is claimable');
  await queue.acknowledge([first[0] as ClaimedJob], 'completed');
  const next = await queue.dequeue({ ...ALL, limit: 10 });
  t.same(
    next.map((j) => j.id),
    [rename.id],
  );
});

t.test('concurrent workers never share a job and never hold two jobs of one replica', async (t) => {
  const { queue, pool } = await queueOn(t, { candidateWindow: 16 });
  const replicas = 30;
  const perReplica = 5;
  const enqueued = new Set<number>();
  for (let round = 0; round < perReplica; round += 1) {
    for (let r = 0; r < replicas; r += 1) {
      const target = r % 2 === 0 ? 'gitaly-2' : 'gitaly-3';
      const { id } = await queue.enqueue(job(r + 1, target, { params: { round } }));
      enqueued.add(id);
    }
  }
  const held = new Set<string>();
  const claimedIds: number[] = [];
  let violations = 0;
  let maxParallel = 0;
  const worker = async (): Promise<void> => {
    for (let idle = 0; idle < 3; ) {
      const jobs = await queue.dequeue({ ...ALL, limit: 3 });
      if (jobs.length === 0) {
        idle += 1;
        await sleep(5);
        continue;
      }
      idle = 0;
      for (const j of jobs) {
        if (held.has(j.lockKey)) violations += 1;
        held.add(j.lockKey);
        claimedIds.push(j.id);
      }
      maxParallel = Math.max(maxParallel, held.size);
      await sleep(Math.random() * 4);
      // Released before the acknowledgement is sent: the database cannot hand
      // the replica out again before it commits, so no false alarms.
      for (const j of jobs) held.delete(j.lockKey);
      await queue.acknowledge(jobs, 'completed');
    }
  };
  // The database's own view, sampled while the workers run.
  let dbViolations = 0;
  let running = true;
  const monitor = (async () => {
    while (running) {
      const r = await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM (SELECT lock_key FROM replication_queue
         WHERE state = 'in_progress' GROUP BY lock_key HAVING count(*) > 1) x`,
      );
      dbViolations += r.rows[0]?.n ?? 0;
      await sleep(5);
    }
  })();
  await Promise.all(Array.from({ length: 8 }, worker));
  running = false;
  await monitor;
  t.equal(violations, 0, 'no replica was held by two workers');
  t.equal(dbViolations, 0, 'the table never had two in-progress jobs for one replica');
  t.equal(claimedIds.length, enqueued.size, 'every job claimed once');
  t.equal(new Set(claimedIds).size, enqueued.size, 'no job claimed twice');
  t.ok(maxParallel > 1, `workers did run in parallel (up to ${maxParallel} replicas at once)`);
  const left = await pool.query('SELECT 1 FROM replication_queue');
  t.equal(left.rowCount, 0, 'completed jobs are removed');
  const locks = await pool.query('SELECT 1 FROM replication_queue_lock WHERE acquired');
  t.equal(locks.rowCount, 0, 'every replica lock released');
});

t.test('completion also retires equal jobs queued before the claim, not after', async (t) => {
  const { queue } = await queueOn(t, { backoffBaseMs: 0 });
  const retried = await queue.enqueue(job(1, 'gitaly-2'));
  await queue.acknowledge(await queue.dequeue(ALL), 'failed', 'first try failed');
  // A failed job is not 'ready', so a new write queues an equal job.
  const before = await queue.enqueue(job(1, 'gitaly-2'));
  t.equal(before.created, true);
  const [claimed] = await queue.dequeue(ALL);
  t.equal(claimed?.id, retried.id, 'the older job goes first');
  await queue.acknowledge([claimed as ClaimedJob], 'completed');
  t.equal(await queue.get(retried.id), undefined, 'the completed job is gone');
  t.equal(await queue.get(before.id), undefined, 'the copy covered the write queued before its claim');

  // Again, but a write arrives after the claim and folds into the waiting job.
  const again = await queue.enqueue(job(1, 'gitaly-2'));
  await queue.acknowledge(await queue.dequeue(ALL), 'failed', 'fails again');
  const waiting = await queue.enqueue(job(1, 'gitaly-2'));
  const [second] = await queue.dequeue(ALL);
  t.equal(second?.id, again.id);
  t.same(await queue.enqueue(job(1, 'gitaly-2')), { id: waiting.id, created: false }, 'folded into the waiting job');
  await queue.acknowledge([second as ClaimedJob], 'completed');
  t.equal((await queue.get(waiting.id))?.state, 'ready', 'it stays: the copy may have missed that write');
});

t.test('failures back off exponentially, then the job is dead', async (t) => {
  const { queue } = await queueOn(t, { maxAttempts: 3, backoffBaseMs: 300, backoffMaxMs: 450 });
  const { id } = await queue.enqueue(job(1, 'gitaly-2'));
  const delays: number[] = [];
  for (let attempt = 1; attempt <= 3; attempt += 1) {
    let claimed: ClaimedJob[] = [];
    for (let tries = 0; claimed.length === 0 && tries < 200; tries += 1) {
      claimed = await queue.dequeue(ALL);
      if (claimed.length === 0) await sleep(20);
    }
    t.equal(claimed[0]?.attemptsMade, attempt, `attempt ${attempt} claimed`);
    const [ack] = await queue.acknowledge(claimed, 'failed', `boom ${attempt}`);
    const after = await queue.get(id);
    if (attempt < 3) {
      t.same(ack, { id, state: 'failed' });
      t.same(await queue.dequeue(ALL), [], 'not claimable during its backoff');
      delays.push((after?.retryAt.getTime() ?? 0) - (after?.updatedAt.getTime() ?? 0));
    } else {
      t.same(ack, { id, state: 'dead' }, 'out of attempts: dead');
      t.match(after, { state: 'dead', attemptsLeft: 0, lastError: 'boom 3' });
    }
  }
  t.same(delays, [300, 450], 'base, then doubled and capped');
  t.same(await queue.dequeue(ALL), [], 'a dead job is never claimed');
  t.same(await queue.deadCounts(), [{ virtualStorage: 'default', targetStorage: 'gitaly-2', count: 1 }]);
  const next = await queue.enqueue(job(1, 'gitaly-2', { changeType: 'delete_replica', sourceStorage: undefined }));
  t.equal((await queue.dequeue(ALL))[0]?.id, next.id, 'a dead job does not hold its replica lock');
});

t.test('a worker may declare a job dead at once', async (t) => {
  const { queue } = await queueOn(t);
  await queue.enqueue(job(1, 'gitaly-2'));
  const claimed = await queue.dequeue(ALL);
  t.same(
    (await queue.acknowledge(claimed, 'dead', 'repository is gone')).map((a) => a.state),
    ['dead'],
  );
});

t.test('heartbeats keep a claim; a stale one is swept back to ready and its old token is void', async (t) => {
  const { queue } = await queueOn(t);
  const kept = await queue.enqueue(job(1, 'gitaly-2'));
  const lost = await queue.enqueue(job(2, 'gitaly-2'));
  const claims = await queue.dequeue({ ...ALL, limit: 2 });
  t.equal(claims.length, 2);
  const keptClaim = claims.find((c) => c.id === kept.id) as ClaimedJob;
  const lostClaim = claims.find((c) => c.id === lost.id) as ClaimedJob;
  await sleep(200);
  t.same(await queue.heartbeat([keptClaim]), [kept.id]);
  t.same(await queue.sweepStale(150), { requeued: 1, superseded: 0, dead: 0 });
  t.equal((await queue.get(kept.id))?.state, 'in_progress', 'the heartbeating claim stays');
  t.match(await queue.get(lost.id), { state: 'ready', attemptsLeft: 2, lastError: /heartbeats/ });

  t.same(await queue.heartbeat([lostClaim]), [], 'the swept claim learns it lost the job');
  t.same(await queue.acknowledge([lostClaim], 'completed'), [], 'and cannot acknowledge it');
  const again = await queue.dequeue(ALL);
  t.equal(again[0]?.id, lost.id, 'the replica lock was released: another worker takes it');
  t.not(again[0]?.claimToken, lostClaim.claimToken);
  t.equal(again[0]?.attemptsMade, 2);
});

t.test('the sweep drops a stale job an equal ready job supersedes, and kills one out of attempts', async (t) => {
  const { queue } = await queueOn(t, { maxAttempts: 1 });
  await queue.enqueue(job(1, 'gitaly-2'));
  await queue.enqueue(job(2, 'gitaly-2'));
  const claims = await queue.dequeue({ ...ALL, limit: 2 });
  t.equal(claims.length, 2);
  const newer = await queue.enqueue(job(1, 'gitaly-2'));
  await sleep(120);
  t.ok(newer.created);
  t.same(
    await queue.sweepStale(100),
    { requeued: 0, superseded: 0, dead: 2 },
    'no attempts left: dead, even with an equal job queued',
  );

  const { queue: roomy } = await queueOn(t, { maxAttempts: 3 });
  await roomy.enqueue(job(1, 'gitaly-2'));
  const [claim] = await roomy.dequeue(ALL);
  const equal = await roomy.enqueue(job(1, 'gitaly-2'));
  await sleep(120);
  t.same(await roomy.sweepStale(100), { requeued: 0, superseded: 1, dead: 0 });
  t.equal(await roomy.get(claim?.id ?? 0), undefined, 'the stale copy is gone');
  t.equal((await roomy.get(equal.id))?.state, 'ready', 'its equal stays queued');
  t.equal((await roomy.dequeue(ALL))[0]?.id, equal.id, 'and is claimable');
});

t.test('depth per target and state, and dead counts', async (t) => {
  const { queue } = await queueOn(t, { maxAttempts: 1 });
  await queue.enqueue(job(1, 'gitaly-2'));
  await queue.enqueue(job(2, 'gitaly-2'));
  await queue.enqueue(job(3, 'gitaly-3'));
  const claimed = await queue.dequeue({ virtualStorage: 'default', targets: ['gitaly-3'] });
  await queue.acknowledge(claimed, 'failed', 'boom');
  await queue.dequeue({ virtualStorage: 'default', targets: ['gitaly-2'] });
  t.same(await queue.depth(), [
    { virtualStorage: 'default', targetStorage: 'gitaly-2', state: 'ready', count: 1 },
    { virtualStorage: 'default', targetStorage: 'gitaly-2', state: 'in_progress', count: 1 },
    { virtualStorage: 'default', targetStorage: 'gitaly-3', state: 'dead', count: 1 },
  ]);
  t.same(await queue.deadCounts(), [{ virtualStorage: 'default', targetStorage: 'gitaly-3', count: 1 }]);
});

t.test('a backlog for an unhealthy target stays out of the dequeue plan', async (t) => {
  const { queue, pool } = await queueOn(t);
  // 20,000 jobs for a node that is down, older than the healthy target's jobs.
  await pool.query(
    `WITH r AS (SELECT g AS id, 'default|gitaly-9|' || g AS lock_key FROM generate_series(1, 20000) AS g),
          locks AS (INSERT INTO replication_queue_lock (lock_key) SELECT lock_key FROM r)
     INSERT INTO replication_queue (change_type, repository_id, virtual_storage, relative_path, replica_path,
                                    source_storage, target_storage, lock_key, attempts_left)
     SELECT 'update', id, 'default', 'r.git', 'r', 'gitaly-1', 'gitaly-9', lock_key, 3 FROM r`,
  );
  for (let id = 1; id <= 50; id += 1) await queue.enqueue(job(100_000 + id, 'gitaly-2'));
  await pool.query('ANALYZE replication_queue; ANALYZE replication_queue_lock');
  // Buffer counts, unlike timings, do not depend on how busy the machine is.
  const plan = await pool.query<{ 'QUERY PLAN': string }>(
    `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${dequeueStatement(2)}`,
    ['default', 1, 32, 'gitaly-2', 'gitaly-3'],
  );
  const lines = plan.rows.map((row) => row['QUERY PLAN']);
  const top = lines.find((line) => line.includes('Buffers: shared'));
  const touched = [...(top ?? '').matchAll(/(?:hit|read)=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
  t.ok(touched > 0 && touched < 400, `the claim touched ${touched} buffers`);
  t.notOk(
    lines.some((line) => /Seq Scan on replication_queue\b/.test(line)),
    'no sequential scan of the queue',
  );
});

// Measures job claims (dequeue + acknowledge, each its own committed
// transaction) per worker on the embedded server, with fsync on. The figures
// go to the test log. Timings depend on the machine's load, so nothing here
// asserts speed; replication-queue.test.ts checks the plan's cost instead.
import t from 'tap';
import { ReplicationQueue, type DatabasePool } from '../../src/db/index.js';
import { freshDatabase, startTestServer } from './test-server.js';

const server = await startTestServer(t);

const VIRTUAL_STORAGE = 'default';
const TARGET = 'gitaly-2';

/** Fills the queue directly in SQL: the enqueue path is not what is measured here. */
async function fill(pool: DatabasePool, target: string, count: number, firstRepo: number): Promise<void> {
  await pool.query(
    `WITH r AS (SELECT g AS id, $1::text || '|' || $2::text || '|' || g AS lock_key
                FROM generate_series($3::bigint, $3::bigint + $4::bigint - 1) AS g),
          locks AS (INSERT INTO replication_queue_lock (lock_key) SELECT lock_key FROM r ON CONFLICT DO NOTHING)
     INSERT INTO replication_queue (change_type, repository_id, virtual_storage, relative_path, replica_path,
                                    source_storage, target_storage, lock_key, attempts_left)
     SELECT 'update', id, $1, 'repo-' || id || '.git', 'replica-' || id, 'gitaly-1', $2, lock_key, 3 FROM r`,
    [VIRTUAL_STORAGE, target, firstRepo, count],
  );
}

interface WorkerFigures {
  claims: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
}

async function work(queue: ReplicationQueue, claims: number): Promise<WorkerFigures> {
  const latencies: number[] = [];
  const started = performance.now();
  while (latencies.length < claims) {
    const begin = performance.now();
    const jobs = await queue.dequeue({ virtualStorage: VIRTUAL_STORAGE, targets: [TARGET, 'gitaly-3'] });
    if (jobs.length === 0) break;
    await queue.acknowledge(jobs, 'completed');
    latencies.push(performance.now() - begin);
  }
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    claims: latencies.length,
    perSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

function describe(label: string, figures: WorkerFigures[]): string {
  const total = figures.reduce((n, f) => n + f.perSecond, 0);
  const each = figures
    .map((f) => `${f.perSecond.toFixed(0)}/s p50 ${f.p50Ms.toFixed(2)} ms p99 ${f.p99Ms.toFixed(2)} ms`)
    .join('; ');
  return `${label}: ${figures.length} worker(s), ${total.toFixed(0)} claims/s in all; per worker: ${each}`;
}

for (const backlog of [0, 20_000]) {
  const label = backlog === 0 ? 'no backlog elsewhere' : `${backlog} jobs queued for an unhealthy target`;
  t.test(`claim rate, ${label}`, async (t) => {
    const pool = await freshDatabase(t, server, { maxConnections: 8 });
    const queue = new ReplicationQueue(pool);
    if (backlog > 0) await fill(pool, 'gitaly-9', backlog, 1_000_000);
    await fill(pool, TARGET, 3000, 1);
    await pool.query('ANALYZE replication_queue; ANALYZE replication_queue_lock');
    await work(queue, 200); // warm up: sessions, plans, caches

    const one = [await work(queue, 1000)];
    t.comment(describe(label, one));
    const four = await Promise.all([1, 2, 3, 4].map(() => work(queue, 400)));
    t.comment(describe(label, four));

    t.equal(one[0]?.claims, 1000);
    t.ok(
      four.every((f) => f.claims === 400),
      'four workers each got their share',
    );
  });
}

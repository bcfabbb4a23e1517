// The replication queue, shared by the workers of every router.
//
// - enqueue is idempotent: an equal job still waiting ('ready') is not added
//   again (a partial unique index, so concurrent enqueues cannot race past it);
//   the waiting job's enqueued_at moves forward instead, because it now also
//   stands for the newer write;
// - dequeue hands out the oldest claimable jobs for the given healthy targets,
//   at most one per target replica: it locks that replica's row in
//   replication_queue_lock with FOR NO KEY UPDATE SKIP LOCKED, so concurrent
//   workers skip each other instead of waiting, and marks it acquired until the
//   job is acknowledged or swept;
// - each claim carries a token; a worker whose job was swept and handed to
//   someone else can no longer acknowledge or heartbeat it;
// - completed jobs are deleted (as upstream does), failed ones wait out an
//   exponential backoff, and a job out of attempts is dead: it stays for
//   metrics and `cluster status` until an operator removes it.
// All times come from the database's clock, so routers' clocks do not matter.
import { QueryFailedError } from './errors.js';
import type { Queryable } from './pool.js';
import {
  JOB_COLUMNS,
  lockKeyOf,
  toClaimedJob,
  toQueuedJob,
  type ClaimedJob,
  type JobClaim,
  type JobRow,
  type JobState,
  type QueuedJob,
  type ReplicationJob,
} from './replication-job.js';
import { toId, violation } from './row-values.js';

export interface ReplicationQueueOptions {
  /** Tries per job, the first included. Default 3, as upstream. */
  maxAttempts?: number;
  /** Wait after the first failure; doubled after each further one. Default 1000 ms. */
  backoffBaseMs?: number;
  /** Cap on that wait. Default 5 minutes. */
  backoffMaxMs?: number;
  /**
   * How many of the oldest claimable jobs per target one dequeue looks at. It
   * must exceed what concurrent workers hold locked at once, or a worker may
   * see only jobs others are claiming (it then gets fewer jobs this round,
   * never wrong ones). Default 32.
   */
  candidateWindow?: number;
}

export interface EnqueueResult {
  id: number;
  /** False when an equal ready job was already queued; `id` is that job. */
  created: boolean;
}

export interface DequeueRequest {
  virtualStorage: string;
  /** Target storages this worker may serve: the healthy ones. */
  targets: readonly string[];
  /** Default 1. */
  limit?: number;
}

export type AckOutcome = 'completed' | 'failed' | 'dead';

export interface AckResult {
  id: number;
  state: 'completed' | 'failed' | 'dead';
}

export interface SweepResult {
  /** Back to 'ready'. */
  requeued: number;
  /** Dropped, because an equal job was queued while it ran. */
  superseded: number;
  /** Out of attempts. */
  dead: number;
}

export interface QueueDepthRow {
  virtualStorage: string;
  targetStorage: string;
  state: JobState;
  count: number;
}

export interface DeadJobCount {
  virtualStorage: string;
  targetStorage: string;
  count: number;
}

// xmax is 0 only on a freshly inserted row version: it tells an insert from a fold.
const ENQUEUE = `
  WITH lock AS (
    INSERT INTO replication_queue_lock (lock_key) VALUES ($9) ON CONFLICT (lock_key) DO NOTHING
  )
  INSERT INTO replication_queue (change_type, repository_id, virtual_storage, relative_path, replica_path,
                                 source_storage, target_storage, params, lock_key, attempts_left)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10)
  ON CONFLICT (lock_key, change_type, (coalesce(source_storage, '')), params) WHERE state = 'ready'
  DO UPDATE SET enqueued_at = greatest(replication_queue.enqueued_at, now())
  RETURNING id, (xmax = 0) AS created`;

// One statement, so there is no window between choosing and claiming.
// - candidate: per target, the oldest claimable jobs whose replica is not busy,
//   on the partial index. One subquery per target, each with the target as its
//   own parameter: the server plans the statement with the actual values, and
//   with a value it can see the target's share of the table. With the target
//   hidden behind a join it assumed an even split and walked the primary key
//   through other targets' backlog instead (21 ms against 0.1 ms, measured);
// - locked: the oldest candidate of each replica, with the replica's lock row
//   and the job row both locked SKIP LOCKED, so concurrent workers skip each
//   other instead of waiting. READ COMMITTED re-checks the conditions on the
//   newest row versions after locking, so a replica claimed, or a job finished,
//   by a transaction that committed meanwhile is skipped rather than counted
//   against the limit.
// Parameters: $1 virtual storage, $2 limit, $3 candidate window, $4... targets.
export function dequeueStatement(targetCount: number): string {
  const perTarget = Array.from(
    { length: targetCount },
    (_, i) => `(
      SELECT q.id, q.lock_key FROM replication_queue q
      WHERE q.virtual_storage = $1 AND q.target_storage = $${i + 4}
        AND q.state IN ('ready', 'failed') AND q.retry_at <= now()
        AND NOT EXISTS (SELECT 1 FROM replication_queue_lock l WHERE l.lock_key = q.lock_key AND l.acquired)
      ORDER BY q.id
      LIMIT $3)`,
  );
  return `
  WITH candidate AS (
    ${perTarget.join('\n    UNION ALL ')}
  ), oldest AS (
    SELECT lock_key, min(id) AS job_id FROM candidate GROUP BY lock_key
  ), locked AS (
    SELECT job.id AS job_id
    FROM (SELECT lock_key, job_id FROM oldest ORDER BY job_id) AS oldest
    CROSS JOIN LATERAL (
      SELECT l.lock_key FROM replication_queue_lock l
      WHERE l.lock_key = oldest.lock_key AND NOT l.acquired
      FOR NO KEY UPDATE SKIP LOCKED
    ) AS replica
    CROSS JOIN LATERAL (
      SELECT q.id FROM replication_queue q
      WHERE q.id = oldest.job_id AND q.state IN ('ready', 'failed') AND q.attempts_left > 0
      FOR NO KEY UPDATE SKIP LOCKED
    ) AS job
    ORDER BY oldest.job_id
    LIMIT $2
  ), claimed AS (
    UPDATE replication_queue q
    SET state = 'in_progress', attempts_left = q.attempts_left - 1, attempts_made = q.attempts_made + 1,
        claim_token = gen_random_uuid(), claimed_at = now(), heartbeat_at = now(), updated_at = now()
    FROM locked
    WHERE q.id = locked.job_id
    RETURNING q.*
  ), acquire AS (
    UPDATE replication_queue_lock l SET acquired = true FROM claimed WHERE l.lock_key = claimed.lock_key
  )
  SELECT ${JOB_COLUMNS} FROM claimed ORDER BY id`;
}

const CLAIMS = 'claim AS (SELECT * FROM unnest($1::bigint[], $2::uuid[]) AS c(id, token))';

// A completed copy also covers equal jobs whose latest enqueue came before it
// was claimed (their writes happened before the copy started): drop those too.
// A job folded into after the claim stays: the copy may have missed that write.
const ACK_COMPLETED = `
  WITH ${CLAIMS}, done AS (
    DELETE FROM replication_queue q USING claim
    WHERE q.id = claim.id AND q.claim_token = claim.token AND q.state = 'in_progress'
    RETURNING q.id, q.lock_key, q.change_type, q.source_storage, q.params, q.claimed_at
  ), superseded AS (
    DELETE FROM replication_queue r USING done
    WHERE r.state = 'ready' AND r.lock_key = done.lock_key AND r.change_type = done.change_type
      AND coalesce(r.source_storage, '') = coalesce(done.source_storage, '') AND r.params = done.params
      AND r.enqueued_at < done.claimed_at
  ), released AS (
    UPDATE replication_queue_lock l SET acquired = false FROM done WHERE l.lock_key = done.lock_key
  )
  SELECT id, 'completed' AS state FROM done ORDER BY id`;

const ACK_FAILED = `
  WITH ${CLAIMS}, acked AS (
    UPDATE replication_queue q
    SET state = (CASE WHEN $3::text = 'dead' OR q.attempts_left = 0 THEN 'dead' ELSE 'failed' END)::replication_job_state,
        retry_at = now() + make_interval(secs => least($5::float8, $4::float8 * power(2, greatest(q.attempts_made - 1, 0))) / 1000),
        last_error = $6, claim_token = NULL, heartbeat_at = NULL, updated_at = now()
    FROM claim
    WHERE q.id = claim.id AND q.claim_token = claim.token AND q.state = 'in_progress'
    RETURNING q.id, q.lock_key, q.state
  ), released AS (
    UPDATE replication_queue_lock l SET acquired = false FROM acked WHERE l.lock_key = acked.lock_key
  )
  SELECT id, state FROM acked ORDER BY id`;

const HEARTBEAT = `
  WITH ${CLAIMS}
  UPDATE replication_queue q SET heartbeat_at = now()
  FROM claim
  WHERE q.id = claim.id AND q.claim_token = claim.token AND q.state = 'in_progress'
  RETURNING q.id`;

// A job whose worker stopped heartbeating goes back to 'ready', unless an
// equal job was queued meanwhile (then it is dropped: 'ready' is unique per
// job) or it has no attempts left (then it is dead).
const SWEEP = `
  WITH stale AS (
    SELECT id FROM replication_queue
    WHERE state = 'in_progress' AND heartbeat_at < now() - make_interval(secs => $1::float8 / 1000)
    ORDER BY id
    LIMIT 1000
    FOR NO KEY UPDATE SKIP LOCKED
  ), superseded AS (
    DELETE FROM replication_queue q USING stale
    WHERE q.id = stale.id AND q.attempts_left > 0 AND EXISTS (
      SELECT 1 FROM replication_queue r
      WHERE r.state = 'ready' AND r.lock_key = q.lock_key AND r.change_type = q.change_type
        AND coalesce(r.source_storage, '') = coalesce(q.source_storage, '') AND r.params = q.params)
    RETURNING q.id, q.lock_key
  ), requeued AS (
    UPDATE replication_queue q
    SET state = (CASE WHEN q.attempts_left > 0 THEN 'ready' ELSE 'dead' END)::replication_job_state,
        claim_token = NULL, heartbeat_at = NULL, retry_at = now(), updated_at = now(),
        last_error = 'the worker stopped sending heartbeats'
    FROM stale
    WHERE q.id = stale.id AND q.id NOT IN (SELECT id FROM superseded)
    RETURNING q.id, q.lock_key, q.state
  ), released AS (
    UPDATE replication_queue_lock l SET acquired = false
    WHERE l.lock_key IN (SELECT lock_key FROM superseded UNION SELECT lock_key FROM requeued)
  )
  SELECT
    (SELECT count(*) FROM requeued WHERE state = 'ready')::int AS requeued,
    (SELECT count(*) FROM superseded)::int AS superseded,
    (SELECT count(*) FROM requeued WHERE state = 'dead')::int AS dead`;

/** An enqueue racing the sweep can make "back to ready" collide with the dedup index; try again. */
const SWEEP_ATTEMPTS = 3;

export class ReplicationQueue {
  private readonly maxAttempts: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly candidateWindow: number;

  constructor(
    private readonly db: Queryable,
    options: ReplicationQueueOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 3;
    this.backoffBaseMs = options.backoffBaseMs ?? 1000;
    this.backoffMaxMs = options.backoffMaxMs ?? 300_000;
    this.candidateWindow = options.candidateWindow ?? 32;
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) {
      throw new RangeError(`maxAttempts must be a positive integer, got ${this.maxAttempts}`);
    }
  }

  async enqueue(job: ReplicationJob): Promise<EnqueueResult> {
    const result = await this.db.query<{ id: string; created: boolean }>(ENQUEUE, [
      job.changeType,
      job.repositoryId,
      job.virtualStorage,
      job.relativePath,
      job.replicaPath,
      job.sourceStorage ?? null,
      job.targetStorage,
      JSON.stringify(job.params ?? {}),
      lockKeyOf(job),
      this.maxAttempts,
    ]);
    const row = result.rows[0];
    if (row === undefined) throw new QueryFailedError('enqueue returned no row', undefined);
    return { id: toId(row.id), created: row.created };
  }

  /** Claims up to `limit` jobs, oldest first, at most one per target replica. */
  async dequeue(request: DequeueRequest): Promise<ClaimedJob[]> {
    const limit = request.limit ?? 1;
    if (request.targets.length === 0 || limit < 1) return [];
    const targets = [...new Set(request.targets)];
    const window = Math.max(this.candidateWindow, limit);
    const result = await this.db.query<JobRow>(dequeueStatement(targets.length), [
      request.virtualStorage,
      limit,
      window,
      ...targets,
    ]);
    return result.rows.map(toClaimedJob);
  }

  /**
   * Records how the claimed jobs ended. Returns the jobs it applied to; a claim
   * missing from the answer was no longer held (swept, or acknowledged before).
   */
  async acknowledge(claims: readonly JobClaim[], outcome: AckOutcome, error?: string): Promise<AckResult[]> {
    if (claims.length === 0) return [];
    const ids = claims.map((c) => c.id);
    const tokens = claims.map((c) => c.claimToken);
    const result =
      outcome === 'completed'
        ? await this.db.query<{ id: string; state: AckResult['state'] }>(ACK_COMPLETED, [ids, tokens])
        : await this.db.query<{ id: string; state: AckResult['state'] }>(ACK_FAILED, [
            ids,
            tokens,
            outcome,
            this.backoffBaseMs,
            this.backoffMaxMs,
            error ?? null,
          ]);
    return result.rows.map((row) => ({ id: toId(row.id), state: row.state }));
  }

  /** Keeps claims from being swept. Returns the ids still held by these claims. */
  async heartbeat(claims: readonly JobClaim[]): Promise<number[]> {
    if (claims.length === 0) return [];
    const result = await this.db.query<{ id: string }>(HEARTBEAT, [
      claims.map((c) => c.id),
      claims.map((c) => c.claimToken),
    ]);
    return result.rows.map((row) => toId(row.id));
  }

  /** Returns jobs whose worker has not sent a heartbeat for `staleAfterMs` to the queue. */
  async sweepStale(staleAfterMs: number): Promise<SweepResult> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const result = await this.db.query<SweepResult>(SWEEP, [staleAfterMs]);
        return result.rows[0] ?? { requeued: 0, superseded: 0, dead: 0 };
      } catch (err) {
        if (attempt >= SWEEP_ATTEMPTS || violation(err).sqlState !== '23505') throw err;
      }
    }
  }

  async get(id: number): Promise<QueuedJob | undefined> {
    const result = await this.db.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM replication_queue WHERE id = $1`, [id]);
    return result.rows[0] && toQueuedJob(result.rows[0]);
  }

  /** Jobs per target and state: gitaly_praefect_replication_queue_depth. */
  async depth(): Promise<QueueDepthRow[]> {
    const result = await this.db.query<{ virtual_storage: string; target_storage: string; state: JobState; count: number }>(
      `SELECT virtual_storage, target_storage, state, count(*)::int AS count
       FROM replication_queue GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
    );
    return result.rows.map((row) => ({
      virtualStorage: row.virtual_storage,
      targetStorage: row.target_storage,
      state: row.state,
      count: row.count,
    }));
  }

  /** Dead jobs per target, for metrics and `cluster status`. */
  async deadCounts(): Promise<DeadJobCount[]> {
    const result = await this.db.query<{ virtual_storage: string; target_storage: string; count: number }>(
      `SELECT virtual_storage, target_storage, count(*)::int AS count
       FROM replication_queue WHERE state = 'dead' GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    return result.rows.map((row) => ({
      virtualStorage: row.virtual_storage,
      targetStorage: row.target_storage,
      count: row.count,
    }));
  }
}

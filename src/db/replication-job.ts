// What a replication job is, as stored in replication_queue and handed to workers.
import { toId } from './row-values.js';

/**
 * update: copy the repository from source to target (ReplicateRepository);
 * delete_replica: remove the target's replica; rename: move the target's replica (params.to).
 */
export type ChangeType = 'update' | 'delete_replica' | 'rename';

export type JobState = 'ready' | 'in_progress' | 'completed' | 'failed' | 'dead';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface ReplicationJob {
  changeType: ChangeType;
  repositoryId: number;
  virtualStorage: string;
  relativePath: string;
  replicaPath: string;
  /** Absent for changes that need no source, such as delete_replica. */
  sourceStorage?: string;
  targetStorage: string;
  params?: JsonObject;
}

export interface QueuedJob extends Required<Omit<ReplicationJob, 'sourceStorage'>> {
  id: number;
  sourceStorage: string | undefined;
  state: JobState;
  lockKey: string;
  attemptsLeft: number;
  attemptsMade: number;
  lastError: string | undefined;
  createdAt: Date;
  updatedAt: Date;
  retryAt: Date;
  heartbeatAt: Date | undefined;
}

/** Proof that a worker holds a job; acknowledge and heartbeat need it. */
export interface JobClaim {
  id: number;
  claimToken: string;
}

export interface ClaimedJob extends QueuedJob, JobClaim {}

/** One job per target replica at a time: the lock is per (virtual storage, target, repository). */
export function lockKeyOf(job: Pick<ReplicationJob, 'virtualStorage' | 'targetStorage' | 'repositoryId'>): string {
  return `${job.virtualStorage}|${job.targetStorage}|${job.repositoryId}`;
}

export interface JobRow {
  id: string;
  state: JobState;
  change_type: ChangeType;
  repository_id: string;
  virtual_storage: string;
  relative_path: string;
  replica_path: string;
  source_storage: string | null;
  target_storage: string;
  params: JsonObject;
  lock_key: string;
  attempts_left: number;
  attempts_made: number;
  claim_token: string | null;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
  retry_at: Date;
  heartbeat_at: Date | null;
}

export const JOB_COLUMNS = `id, state, change_type, repository_id, virtual_storage, relative_path, replica_path,
  source_storage, target_storage, params, lock_key, attempts_left, attempts_made, claim_token, last_error,
  created_at, updated_at, retry_at, heartbeat_at`;

export function toQueuedJob(row: JobRow): QueuedJob {
  return {
    id: toId(row.id),
    state: row.state,
    changeType: row.change_type,
    repositoryId: toId(row.repository_id),
    virtualStorage: row.virtual_storage,
    relativePath: row.relative_path,
    replicaPath: row.replica_path,
    sourceStorage: row.source_storage ?? undefined,
    targetStorage: row.target_storage,
    params: row.params,
    lockKey: row.lock_key,
    attemptsLeft: row.attempts_left,
    attemptsMade: row.attempts_made,
    lastError: row.last_error ?? undefined,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    retryAt: row.retry_at,
    heartbeatAt: row.heartbeat_at ?? undefined,
  };
}

export function toClaimedJob(row: JobRow): ClaimedJob {
  if (row.claim_token === null) throw new TypeError(`job ${row.id} was returned as claimed without a claim token`);
  return { ...toQueuedJob(row), claimToken: row.claim_token };
}

// Replication jobs the router enqueues after a write (DESIGN §6: Raft first,
// PostgreSQL second). Enqueueing is best effort: a job that cannot be queued
// leaves an outdated generation behind, which the reconciler schedules later.
import type { RepositoryView } from '../cluster/index.js';
import type { ReplicationJob } from '../db/index.js';
import type { RouteContext } from './route-context.js';

/** `reason`: why a replica of a transactional write was left behind, kept in the job's params. */
export function updateJob(repository: RepositoryView, source: string, target: string, reason?: string): ReplicationJob {
  return {
    ...(reason === undefined ? {} : { params: { reason } }),
    changeType: 'update',
    repositoryId: repository.repositoryId,
    virtualStorage: repository.virtualStorage,
    relativePath: repository.relativePath,
    replicaPath: repository.replicaPath,
    sourceStorage: source,
    targetStorage: target,
  };
}

export function deleteReplicaJob(repository: RepositoryView, target: string): ReplicationJob {
  return {
    changeType: 'delete_replica',
    repositoryId: repository.repositoryId,
    virtualStorage: repository.virtualStorage,
    relativePath: repository.relativePath,
    replicaPath: repository.replicaPath,
    targetStorage: target,
  };
}

/** The storages that should hold a replica: the assigned ones, else every configured node. */
export function expectedStorages(ctx: RouteContext, repository: RepositoryView): string[] {
  return repository.assigned.length > 0 ? [...repository.assigned] : ctx.options.nodes.storages(repository.virtualStorage);
}

export function enqueueAll(ctx: RouteContext, jobs: readonly ReplicationJob[]): void {
  const sink = ctx.options.jobs;
  if (sink === undefined || jobs.length === 0) return;
  ctx.background('enqueueing replication jobs', () => Promise.all(jobs.map((job) => sink.enqueue(job))));
}

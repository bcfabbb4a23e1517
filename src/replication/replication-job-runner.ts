// What one claimed job does (DESIGN §9). The order matters:
//   1. a fresh view (ReadIndex), so generations are not stale;
//   2. the copy, from a source that is on the latest generation;
//   3. the target's generation in Raft, a compare-and-set on the generation it
//      had before the copy, set to the source generation read before the copy,
//      so a write the copy may have missed is never claimed.
import type { ClusterAccess, RepositoryView } from '../cluster/index.js';
import type { ClaimedJob } from '../db/index.js';
import { GenerationConflictError, NoSourceError, UnknownNodeError, UnsupportedChangeError } from './errors.js';
import type { NodeClientPool } from './node-client-pool.js';
import type { NodeAddress, NodeDirectory } from '../config/index.js';
import { removeReplica, replicateReplica } from './storage-node-ops.js';
import { withTimeout } from './with-timeout.js';

/** How a job ended well: why it needs nothing more. */
export type JobDone =
  | { readonly result: 'replicated'; readonly source: string; readonly generation: number }
  | { readonly result: 'up-to-date'; readonly generation: number }
  | { readonly result: 'moot' }
  | { readonly result: 'removed' | 'already-removed' };

export interface JobRunnerDeps {
  readonly access: ClusterAccess;
  readonly directory: NodeDirectory;
  readonly clients: NodeClientPool;
  /** This router's own view of node reachability (its prober). */
  readonly reachable: (virtualStorage: string, storage: string) => boolean;
  /** Bound on ReplicateRepository / RemoveRepository. */
  readonly nodeCallTimeoutMs: number;
  /** Bound on fresh() and on a proposal. */
  readonly clusterTimeoutMs: number;
}

/** Performs the job; throws a ReplicationError (or another error) when the attempt failed. */
export async function runReplicationJob(deps: JobRunnerDeps, job: ClaimedJob, signal: AbortSignal): Promise<JobDone> {
  switch (job.changeType) {
    case 'update':
      return runUpdate(deps, job, signal);
    case 'delete_replica':
      return runDelete(deps, job, signal);
    default:
      throw new UnsupportedChangeError(job.changeType);
  }
}

async function runUpdate(deps: JobRunnerDeps, job: ClaimedJob, signal: AbortSignal): Promise<JobDone> {
  await withTimeout(deps.access.fresh(), deps.clusterTimeoutMs, 'a fresh cluster view');
  const repository = deps.access.view.repository(job.repositoryId);
  if (repository === undefined) return { result: 'moot' };
  const targetBefore = generationOf(repository, job.targetStorage);
  // Already there (another job, or it took the write itself): copying now could
  // only overwrite newer data with data no newer.
  if (targetBefore >= 0 && targetBefore >= repository.latestGeneration) return { result: 'up-to-date', generation: targetBefore };
  const source = chooseSource(deps, repository, job);
  const sourceGeneration = generationOf(repository, source);
  await replicateReplica(
    deps.clients,
    requireNode(deps.directory, job.virtualStorage, job.targetStorage),
    requireNode(deps.directory, job.virtualStorage, source),
    repository.replicaPath,
    { timeoutMs: deps.nodeCallTimeoutMs, signal },
  );
  const outcome = await withTimeout(
    deps.access.propose({
      type: 'set-replica-generation',
      repositoryId: job.repositoryId,
      storage: job.targetStorage,
      generation: sourceGeneration,
      expectedGeneration: targetBefore,
    }),
    deps.clusterTimeoutMs,
    'the set-replica-generation proposal',
  );
  if (outcome.status === 'ok') return { result: 'replicated', source, generation: sourceGeneration };
  if (outcome.status === 'not-found') return { result: 'moot' };
  if (outcome.currentGeneration >= sourceGeneration) return { result: 'up-to-date', generation: outcome.currentGeneration };
  throw new GenerationConflictError(job.repositoryId, job.targetStorage, outcome.reason, outcome.currentGeneration, sourceGeneration);
}

/**
 * The job's source while it is healthy and on the latest generation; else the
 * first healthy latest replica (the primary first), never the target itself.
 */
function chooseSource(deps: JobRunnerDeps, repository: RepositoryView, job: ClaimedJob): string {
  const view = deps.access.view;
  const usable = (storage: string): boolean =>
    storage !== job.targetStorage &&
    repository.latestGeneration >= 0 &&
    generationOf(repository, storage) === repository.latestGeneration &&
    deps.directory.find(job.virtualStorage, storage) !== undefined &&
    view.isHealthy(job.virtualStorage, storage) &&
    deps.reachable(job.virtualStorage, storage);
  if (job.sourceStorage !== undefined && usable(job.sourceStorage)) return job.sourceStorage;
  const other = view.upToDateHealthyReplicas(job.repositoryId).find(usable);
  if (other === undefined) throw new NoSourceError(job.repositoryId, job.targetStorage);
  return other;
}

async function runDelete(deps: JobRunnerDeps, job: ClaimedJob, signal: AbortSignal): Promise<JobDone> {
  const target = requireNode(deps.directory, job.virtualStorage, job.targetStorage);
  const removed = await removeReplica(deps.clients, target, job.replicaPath, { timeoutMs: deps.nodeCallTimeoutMs, signal });
  return { result: removed ? 'removed' : 'already-removed' };
}

function generationOf(repository: RepositoryView, storage: string): number {
  return repository.generations[storage] ?? -1;
}

function requireNode(directory: NodeDirectory, virtualStorage: string, storage: string): NodeAddress {
  const node = directory.find(virtualStorage, storage);
  if (node === undefined) throw new UnknownNodeError(virtualStorage, storage);
  return node;
}

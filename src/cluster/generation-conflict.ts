import type { ClusterState } from './cluster-state.js';
import type { GenerationConflict } from './command-results.js';
import { generationOf, latestGeneration } from './replica-set.js';
import { NO_STORAGE, type RepositoryRecord } from './repository-record.js';

/** A refused compare-and-set, carrying the current values so the proposer needs no second read. */
export function conflict<R extends string>(state: ClusterState, record: RepositoryRecord, storage: number, reason: R): GenerationConflict & { readonly reason: R } {
  return {
    status: 'conflict',
    reason,
    currentPrimary: state.storageName(record.primary),
    currentGeneration: storage === NO_STORAGE ? -1 : generationOf(record.replicas, storage),
    latestGeneration: latestGeneration(record.replicas),
  };
}

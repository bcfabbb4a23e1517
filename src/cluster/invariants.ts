import type { ClusterState } from './cluster-state.js';
import { clusterInvariant } from './errors.js';
import { generationOf, isEligible, NO_GENERATION, replicas } from './replica-set.js';
import { NO_STORAGE, type RepositoryRecord } from './repository-record.js';

/**
 * DESIGN §5 invariants of one repository, cheap enough to check after every
 * command that touches it. (That generations never decrease is enforced where
 * they change: raiseGeneration refuses to lower one.)
 */
export function checkRepositoryInvariants(state: ClusterState, record: RepositoryRecord): void {
  const list = replicas(record.replicas);
  const storages = new Set(list.map((r) => r.storage));
  clusterInvariant(storages.size === list.length, () => `repository ${record.id} lists a storage twice`);
  for (const r of list) {
    clusterInvariant(r.generation >= NO_GENERATION, () => `repository ${record.id}: storage ${r.storage} has generation ${r.generation}`);
    clusterInvariant(r.generation >= 0 || r.assigned, () => `repository ${record.id}: storage ${r.storage} is neither assigned nor a replica`);
  }
  if (record.primary === NO_STORAGE) return;
  const primary = state.storages.name(record.primary);
  clusterInvariant(generationOf(record.replicas, record.primary) >= 0, () => `repository ${record.id}: primary ${primary} holds no replica`);
  clusterInvariant(isEligible(record.replicas, record.primary), () => `repository ${record.id}: primary ${primary} is not assigned`);
  clusterInvariant(record.primaryBase <= generationOf(record.replicas, record.primary), () => `repository ${record.id}: primary base is ahead of the primary`);
}

/** Every invariant over the whole state, including the path index; for tests and after a restore. */
export function checkStateInvariants(state: ClusterState): void {
  for (const record of state.repositories.values()) {
    checkRepositoryInvariants(state, record);
    const indexed = state.repositoryIdByPath(record.virtualStorage, record.relativePath);
    clusterInvariant(indexed === record.id, () => `repository ${record.id} is indexed under its path as ${indexed}`);
  }
}

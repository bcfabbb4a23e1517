import type { ClusterState } from './cluster-state.js';
import { clusterInvariant } from './errors.js';
import { generationOf, isEligible, NO_GENERATION } from './replica-set.js';
import { NO_STORAGE, type RepositoryRecord } from './repository-record.js';

/**
 * DESIGN §5 invariants of one repository, cheap enough (no allocation) to
 * check after every command that touches it and for each of a million
 * repositories on restore. (That generations never decrease is enforced where
 * they change: raiseGeneration refuses to lower one.)
 */
export function checkRepositoryInvariants(state: ClusterState, record: RepositoryRecord): void {
  const pairs = record.replicas;
  for (let i = 0; i < pairs.length; i += 2) {
    const storage = pairs[i]! >> 1;
    const generation = pairs[i + 1]!;
    clusterInvariant(generation >= NO_GENERATION, () => `repository ${record.id}: storage ${storage} has generation ${generation}`);
    clusterInvariant(generation >= 0 || (pairs[i]! & 1) === 1, () => `repository ${record.id}: storage ${storage} is neither assigned nor a replica`);
    for (let k = i + 2; k < pairs.length; k += 2) clusterInvariant(pairs[k]! >> 1 !== storage, () => `repository ${record.id} lists storage ${storage} twice`);
  }
  if (record.primary === NO_STORAGE) return;
  const primary = record.primary;
  clusterInvariant(generationOf(pairs, primary) >= 0, () => `repository ${record.id}: primary ${state.storageName(primary)} holds no replica`);
  clusterInvariant(isEligible(pairs, primary), () => `repository ${record.id}: primary ${state.storageName(primary)} is not assigned`);
  clusterInvariant(record.primaryBase <= generationOf(pairs, primary), () => `repository ${record.id}: primary base is ahead of the primary`);
}

/**
 * Every invariant over the whole state, for tests, restores and reopening.
 * The path index must hold every repository: with two under one path it
 * would hold fewer, and the sizes would differ.
 */
export function checkStateInvariants(state: ClusterState): void {
  for (const record of state.repositories.values()) checkRepositoryInvariants(state, record);
  const indexed = state.indexedPathCount();
  clusterInvariant(indexed === state.repositories.size, () => `${state.repositories.size} repositories but ${indexed} indexed paths`);
}

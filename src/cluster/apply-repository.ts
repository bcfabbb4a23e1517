import type { ClusterState } from './cluster-state.js';
import type { AssignmentsResult, CreateRepositoryResult, DeleteRepositoryResult } from './command-results.js';
import type { CreateRepositoryCommand, DeleteRepositoryCommand, SetAssignmentsCommand, SetReplicationFactorCommand } from './commands.js';
import { compareNames } from './election.js';
import { assignExactly, generationOf, isAssigned, NO_GENERATION, type ReplicaPairs } from './replica-set.js';
import { ownString } from './own-string.js';
import { derivedReplicaPath, NO_STORAGE, RepositoryRecord } from './repository-record.js';

/** Records a repository PostgreSQL allocated: the primary (and any secondaries created with it) start on generation 0. */
export function applyCreateRepository(state: ClusterState, command: CreateRepositoryCommand): CreateRepositoryResult {
  if (state.repository(command.repositoryId)) return { status: 'conflict', reason: 'id-taken', existingRepositoryId: command.repositoryId };
  const virtualStorage = state.virtualStorages.intern(command.virtualStorage);
  const existing = state.repositoryIdByPath(virtualStorage, command.relativePath);
  if (existing !== undefined) return { status: 'conflict', reason: 'path-taken', existingRepositoryId: existing };
  const primary = state.storages.intern(command.primary);
  const pairs: ReplicaPairs = [];
  const created = new Set([primary, ...command.updatedSecondaries.map((name) => state.storages.intern(name))]);
  for (const storage of created) pairs.push(storage * 2, 0);
  assignExactly(pairs, command.assigned.map((name) => state.storages.intern(name)));
  const customPath = command.replicaPath === derivedReplicaPath(command.repositoryId) ? undefined : ownString(command.replicaPath);
  // slice(): an exact-size copy, as arrays grown by push keep spare slots (a million repositories' worth).
  const record = new RepositoryRecord(command.repositoryId, virtualStorage, ownString(command.relativePath), customPath, primary, 0, pairs.slice(), undefined);
  state.addRepository(record);
  return { status: 'ok' };
}

export function applyDeleteRepository(state: ClusterState, command: DeleteRepositoryCommand): DeleteRepositoryResult {
  if (!state.repository(command.repositoryId)) return { status: 'not-found', repositoryId: command.repositoryId };
  state.removeRepository(command.repositoryId);
  return { status: 'ok' };
}

/** Replaces the assignments; refused when they would leave the primary unassigned. */
export function applySetAssignments(state: ClusterState, command: SetAssignmentsCommand): AssignmentsResult {
  const record = state.repository(command.repositoryId);
  if (record === undefined) return { status: 'not-found', repositoryId: command.repositoryId };
  const primaryName = state.storageName(record.primary);
  if (primaryName !== null && command.assigned.length > 0 && !command.assigned.includes(primaryName)) {
    return { status: 'conflict', reason: 'primary-not-assigned', currentPrimary: primaryName };
  }
  assignExactly(record.replicas, command.assigned.map((name) => state.storages.intern(name)));
  state.touch(record.id);
  return { status: 'ok', assigned: [...command.assigned] };
}

/**
 * Upstream's set-replication-factor, made deterministic: the primary always
 * stays; then storages already assigned, then those holding the newest
 * replicas, then configuration order. Storages no longer configured
 * (absent from storageOrder) lose their assignment.
 */
export function applySetReplicationFactor(state: ClusterState, command: SetReplicationFactorCommand): AssignmentsResult {
  const record = state.repository(command.repositoryId);
  if (record === undefined) return { status: 'not-found', repositoryId: command.repositoryId };
  const primaryName = state.storageName(record.primary);
  const universe = [...new Set([...(primaryName === null ? [] : [primaryName]), ...command.storageOrder])];
  if (universe.length < command.replicationFactor) return { status: 'conflict', reason: 'not-enough-storages', currentPrimary: primaryName };
  const chosen = universe
    .map((name, order) => ({ name, order, ...standing(state, record.replicas, name) }))
    .sort((a, b) => rankForAssignment(a, b, primaryName))
    .slice(0, command.replicationFactor)
    .map((candidate) => candidate.name)
    .sort(compareNames);
  assignExactly(record.replicas, chosen.map((name) => state.storages.intern(name)));
  state.touch(record.id);
  return { status: 'ok', assigned: chosen };
}

function standing(state: ClusterState, pairs: ReplicaPairs, name: string): { assigned: boolean; generation: number } {
  const storage = state.storages.lookup(name) ?? NO_STORAGE;
  if (storage === NO_STORAGE) return { assigned: false, generation: NO_GENERATION };
  return { assigned: isAssigned(pairs, storage), generation: generationOf(pairs, storage) };
}

interface Standing {
  readonly name: string;
  readonly order: number;
  readonly assigned: boolean;
  readonly generation: number;
}

function rankForAssignment(a: Standing, b: Standing, primary: string | null): number {
  if ((a.name === primary) !== (b.name === primary)) return a.name === primary ? -1 : 1;
  if (a.assigned !== b.assigned) return a.assigned ? -1 : 1;
  return b.generation - a.generation || a.order - b.order;
}

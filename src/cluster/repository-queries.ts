import type { ClusterState } from './cluster-state.js';
import type { Availability, OutdatedReplica, ReplicaStatus, RepositoryView, WriteRoute } from './cluster-view.js';
import { compareNames, electionCandidates, isValidPrimary } from './election.js';
import type { ConsensusHealth } from './health.js';
import { assignedStorages, generationOf, hasAssignments, latestGeneration, replicas } from './replica-set.js';
import { NO_STORAGE, type RepositoryRecord } from './repository-record.js';

/** Per-repository answers for the router, over one consensus-health reading. */
export function repositoryView(state: ClusterState, record: RepositoryRecord): RepositoryView {
  const generations: Record<string, number> = {};
  for (const r of replicas(record.replicas)) if (r.generation >= 0) generations[state.storages.name(r.storage)] = r.generation;
  return {
    repositoryId: record.id,
    virtualStorage: state.virtualStorages.name(record.virtualStorage),
    relativePath: record.relativePath,
    replicaPath: record.replicaPath,
    primary: state.storageName(record.primary),
    assigned: names(state, assignedStorages(record.replicas)),
    generations,
    latestGeneration: latestGeneration(record.replicas),
    writeIntents: (record.intents ?? []).map((intent) => ({ ...intent, storage: state.storages.name(intent.storage) })),
  };
}

export function availabilityOf(record: RepositoryRecord, health: ConsensusHealth): Availability {
  if (replicas(record.replicas).some((r) => isValidPrimary(record, r.storage, health))) return 'writable';
  return hasHealthyLatest(record, health) ? 'read-only' : 'unavailable';
}

function hasHealthyLatest(record: RepositoryRecord, health: ConsensusHealth): boolean {
  const latest = latestGeneration(record.replicas);
  return replicas(record.replicas).some((r) => r.generation >= 0 && r.generation === latest && health.isHealthy(record.virtualStorage, r.storage));
}

export function writeRouteOf(state: ClusterState, record: RepositoryRecord, health: ConsensusHealth, storageOrder: readonly string[]): WriteRoute {
  const currentPrimary = state.storageName(record.primary);
  if (isValidPrimary(record, record.primary, health)) {
    return { kind: 'primary', primary: currentPrimary!, generation: generationOf(record.replicas, record.primary) };
  }
  const candidates = electionCandidates(state, record, storageOrder, health);
  if (candidates.length > 0) return { kind: 'needs-election', currentPrimary, candidates: candidates.map((s) => state.storages.name(s)) };
  if (hasHealthyLatest(record, health)) {
    return { kind: 'read-only', currentPrimary, reason: 'no assigned replica on the latest generation is healthy; only an unassigned one holds the latest data' };
  }
  return { kind: 'unavailable', currentPrimary, reason: 'no replica on the latest generation is healthy by quorum' };
}

export function upToDateHealthyReplicas(state: ClusterState, record: RepositoryRecord, health: ConsensusHealth): string[] {
  const latest = latestGeneration(record.replicas);
  const storages = replicas(record.replicas)
    .filter((r) => r.generation >= 0 && r.generation === latest && health.isHealthy(record.virtualStorage, r.storage))
    .map((r) => r.storage);
  const primaryFirst = storages.includes(record.primary) ? [record.primary, ...storages.filter((s) => s !== record.primary)] : storages;
  return primaryFirst.map((s) => state.storages.name(s));
}

/** The replicas the repository should have: the assigned storages, or every replica holder when nothing is assigned. */
export function expectedReplicas(record: RepositoryRecord): ReturnType<typeof replicas> {
  const all = replicas(record.replicas);
  return hasAssignments(record.replicas) ? all.filter((r) => r.assigned) : all;
}

export function hasOutdatedReplicas(record: RepositoryRecord): boolean {
  const latest = latestGeneration(record.replicas);
  return expectedReplicas(record).some((r) => r.generation < latest);
}

export function outdatedReplicas(state: ClusterState, record: RepositoryRecord, health: ConsensusHealth): OutdatedReplica[] {
  const latest = latestGeneration(record.replicas);
  return expectedReplicas(record)
    .filter((r) => r.generation < latest)
    .map((r) => ({
      storage: state.storages.name(r.storage),
      generation: r.generation,
      latestGeneration: latest,
      healthy: health.isHealthy(record.virtualStorage, r.storage),
    }))
    .sort((a, b) => compareNames(a.storage, b.storage));
}

/** Upstream's per-storage dataloss detail, sorted by storage name. */
export function replicaStatuses(state: ClusterState, record: RepositoryRecord, health: ConsensusHealth): ReplicaStatus[] {
  const latest = latestGeneration(record.replicas);
  const hasAssigned = hasAssignments(record.replicas);
  return replicas(record.replicas)
    .map((r) => ({
      storage: state.storages.name(r.storage),
      generation: r.generation,
      behindBy: latest - r.generation,
      assigned: hasAssigned ? r.assigned : r.generation >= 0,
      healthy: health.isHealthy(record.virtualStorage, r.storage),
      validPrimary: isValidPrimary(record, r.storage, health),
    }))
    .sort((a, b) => compareNames(a.storage, b.storage));
}

export function primaryOutdated(record: RepositoryRecord): boolean {
  return record.primary === NO_STORAGE || generationOf(record.replicas, record.primary) !== latestGeneration(record.replicas);
}

function names(state: ClusterState, storages: readonly number[]): string[] {
  return storages.map((s) => state.storages.name(s)).sort(compareNames);
}

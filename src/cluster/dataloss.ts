import type { ClusterState } from './cluster-state.js';
import type { DatalossEntry, DatalossOptions } from './cluster-view.js';
import type { ConsensusHealth } from './health.js';
import { isValidPrimary } from './election.js';
import { availabilityOf, expectedReplicas, primaryOutdated, replicaStatuses } from './repository-queries.js';
import type { RepositoryRecord } from './repository-record.js';

/**
 * Upstream's `praefect dataloss`: repositories that cannot take writes or
 * whose primary is not on the latest generation (writes since could be lost
 * if it were used), and with `partiallyUnavailable` also those where some
 * expected replica is outdated, missing or unhealthy. Sorted by virtual
 * storage, then relative path, as upstream prints them.
 */
export function dataloss(state: ClusterState, health: ConsensusHealth, options: DatalossOptions = {}): DatalossEntry[] {
  const virtualStorage = options.virtualStorage === undefined ? undefined : state.virtualStorages.lookup(options.virtualStorage);
  if (options.virtualStorage !== undefined && virtualStorage === undefined) return [];
  const entries: DatalossEntry[] = [];
  for (const record of state.repositories.values()) {
    if (virtualStorage !== undefined && record.virtualStorage !== virtualStorage) continue;
    if (!isListed(record, health, options.partiallyUnavailable === true)) continue;
    entries.push(entry(state, record, health));
  }
  return entries.sort((a, b) => (a.virtualStorage < b.virtualStorage ? -1 : a.virtualStorage > b.virtualStorage ? 1 : a.relativePath < b.relativePath ? -1 : 1));
}

// A valid primary settles most repositories without allocating: a million are scanned, few are listed.
function isListed(record: RepositoryRecord, health: ConsensusHealth, partially: boolean): boolean {
  const primaryValid = isValidPrimary(record, record.primary, health);
  if (!primaryValid && (primaryOutdated(record) || availabilityOf(record, health) !== 'writable')) return true;
  if (!partially) return false;
  return expectedReplicas(record).some((r) => !isValidPrimary(record, r.storage, health));
}

function entry(state: ClusterState, record: RepositoryRecord, health: ConsensusHealth): DatalossEntry {
  return {
    repositoryId: record.id,
    virtualStorage: state.virtualStorages.name(record.virtualStorage),
    relativePath: record.relativePath,
    replicaPath: record.replicaPath,
    primary: state.storageName(record.primary),
    availability: availabilityOf(record, health),
    primaryOutdated: primaryOutdated(record),
    replicas: replicaStatuses(state, record, health),
  };
}

import type { ClusterState } from './cluster-state.js';
import type { ElectPrimaryResult } from './command-results.js';
import type { ElectPrimaryCommand } from './commands.js';
import { consensusHealth, type ConsensusHealth } from './health.js';
import { generationOf, isEligible, latestGeneration, replicas } from './replica-set.js';
import { NO_STORAGE, type RepositoryRecord } from './repository-record.js';

/**
 * Whether `storage` may be the repository's primary now (DESIGN §8): assigned
 * (or any replica holder when nothing is assigned), on the latest generation,
 * and healthy by consensus.
 */
export function isValidPrimary(record: RepositoryRecord, storage: number, health: ConsensusHealth): boolean {
  if (storage === NO_STORAGE || !isEligible(record.replicas, storage)) return false;
  const generation = generationOf(record.replicas, storage);
  return generation >= 0 && generation === latestGeneration(record.replicas) && health.isHealthy(record.virtualStorage, storage);
}

/** The valid primaries, best first: configuration order, then storages the order does not list, by name. */
export function electionCandidates(state: ClusterState, record: RepositoryRecord, storageOrder: readonly string[], health: ConsensusHealth): number[] {
  const rank = (storage: number): number => {
    const at = storageOrder.indexOf(state.storages.name(storage));
    return at < 0 ? storageOrder.length : at;
  };
  return replicas(record.replicas)
    .map((replica) => replica.storage)
    .filter((storage) => isValidPrimary(record, storage, health))
    .sort((a, b) => rank(a) - rank(b) || compareNames(state.storages.name(a), state.storages.name(b)));
}

/** Code-unit order: unlike localeCompare, the same on every replica whatever its ICU data. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A compare-and-set on the previous primary. The candidate is chosen HERE, at
 * apply time, from the replicated state, not by the proposer: the proposer's
 * view of health and generations may be stale by the time the entry commits,
 * while the state at apply is the same on every replica and is the latest
 * the cluster agreed on. So two routers electing at once cannot pick
 * different primaries: the first entry wins, the second sees its expected
 * primary gone and gets a conflict naming the winner.
 *
 * A current primary that is still valid stays (changed: false): one router's
 * opinion that it is down does not move it, only consensus health does.
 */
export function applyElectPrimary(state: ClusterState, command: ElectPrimaryCommand): ElectPrimaryResult {
  const record = state.repository(command.repositoryId);
  if (record === undefined) return { status: 'not-found', repositoryId: command.repositoryId };
  const previous = state.storageName(record.primary);
  if (previous !== command.expectedPrimary) return { status: 'conflict', reason: 'primary-changed', currentPrimary: previous };
  const health = consensusHealth(state);
  if (previous !== null && isValidPrimary(record, record.primary, health)) return { status: 'ok', primary: previous, previous, changed: false };
  const [chosen] = electionCandidates(state, record, command.storageOrder, health);
  if (chosen === undefined) return { status: 'no-candidate', currentPrimary: previous };
  record.primary = chosen;
  record.primaryBase = generationOf(record.replicas, chosen);
  state.touch(record.id);
  return { status: 'ok', primary: state.storages.name(chosen), previous, changed: true };
}

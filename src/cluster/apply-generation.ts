import type { ClusterState } from './cluster-state.js';
import type { AcceptDatalossResult, BumpGenerationResult, SetReplicaGenerationResult } from './command-results.js';
import { conflict } from './generation-conflict.js';
import type { AcceptDatalossCommand, BumpGenerationCommand, SetReplicaGenerationCommand } from './commands.js';
import { generationOf, latestGeneration, raiseGeneration } from './replica-set.js';
import { NO_STORAGE, type RepositoryRecord } from './repository-record.js';
import { removeIntent } from './write-intents.js';

/**
 * After a write succeeded on the primary it was routed to, at generation g.
 * A compare-and-set: it applies only if
 *   - that storage is still the primary,
 *   - it is still on the repository's latest generation, and
 *   - no election or replication replaced its data since g
 *     (primaryBase ≤ g ≤ its current generation).
 * Then the primary moves to its current generation + 1, which is g + 1 unless
 * another write to the same primary bumped first: concurrent writes to one
 * repository both land on the primary and both count, rather than the second
 * being ABORTED after it committed. Secondaries that took the same write
 * (reference transactions) and were level with the primary move with it.
 * A refused bump keeps its write intent, so it is settled (apply-write-intent.ts).
 */
export function applyBumpGeneration(state: ClusterState, command: BumpGenerationCommand): BumpGenerationResult {
  const record = state.repository(command.repositoryId);
  if (record === undefined) return { status: 'not-found', repositoryId: command.repositoryId };
  const primary = state.storages.lookup(command.primary) ?? NO_STORAGE;
  if (primary === NO_STORAGE || record.primary !== primary) return conflict(state, record, record.primary, 'primary-changed');
  const current = generationOf(record.replicas, primary);
  if (current !== latestGeneration(record.replicas)) return conflict(state, record, primary, 'primary-outdated');
  if (command.generation < record.primaryBase || command.generation > current) return conflict(state, record, primary, 'generation-changed');
  const next = current + 1;
  const bumpedSecondaries = command.updatedSecondaries.filter((name) => {
    const storage = state.storages.lookup(name);
    if (storage === undefined || generationOf(record.replicas, storage) !== current) return false;
    raiseGeneration(record.replicas, storage, next);
    return true;
  });
  raiseGeneration(record.replicas, primary, next);
  if (command.intentId !== null) removeIntent(record, command.intentId);
  state.touch(record.id);
  return { status: 'ok', generation: next, bumpedSecondaries };
}

/**
 * After `storage` was replicated from a source at `generation` (read before the
 * copy). Never lowers a generation, never claims more than the latest, and when
 * `expectedGeneration` is given it must still be the target's generation
 * (another job or a write got there first otherwise). A copy onto a replica
 * already on that generation still replaced its data: see sameGenerationCopy.
 */
export function applySetReplicaGeneration(state: ClusterState, command: SetReplicaGenerationCommand): SetReplicaGenerationResult {
  const record = state.repository(command.repositoryId);
  if (record === undefined) return { status: 'not-found', repositoryId: command.repositoryId };
  const known = state.storages.lookup(command.storage) ?? NO_STORAGE;
  const current = known === NO_STORAGE ? -1 : generationOf(record.replicas, known);
  if (command.expectedGeneration !== null && current !== command.expectedGeneration) return conflict(state, record, known, 'generation-changed');
  if (command.generation < current) return conflict(state, record, known, 'would-lower');
  if (command.generation > latestGeneration(record.replicas)) return conflict(state, record, known, 'beyond-latest');
  if (command.generation === current) return sameGenerationCopy(state, record, known);
  // Interned only now: a refused command leaves the state exactly as it was.
  const storage = state.storages.intern(command.storage);
  raiseGeneration(record.replicas, storage, command.generation);
  // The primary's data was just replaced: writes routed to it before this copy may be lost.
  if (storage === record.primary) record.primaryBase = command.generation;
  state.touch(record.id);
  return { status: 'ok', generation: command.generation, changed: true };
}

/**
 * A copy onto a replica that was already on the source's generation raises
 * nothing, yet it replaced the replica's data. A write in flight (an
 * outstanding intent) may have landed on it before the copy, as the primary or
 * as a secondary of a reference transaction, and the copy erased it there; its
 * bump must then neither be acknowledged on the primary nor carry this replica
 * to the next generation. Only a replica on the latest generation can be
 * raised by a bump, and only intents can be in flight, so otherwise nothing
 * changes. Else the primary, if on the latest generation, becomes the only
 * latest (every other replica is re-synced from it, as when an intent is
 * resolved), so no bump raises a secondary that was copied over; and when the
 * copy went onto the primary itself, primaryBase moves past the generation
 * those writes were routed with, so their bumps are refused (ABORTED,
 * retryable) while writes routed from now on count.
 */
function sameGenerationCopy(state: ClusterState, record: RepositoryRecord, target: number): SetReplicaGenerationResult {
  const latest = latestGeneration(record.replicas);
  const current = generationOf(record.replicas, target);
  const primaryIsLatest = record.primary !== NO_STORAGE && generationOf(record.replicas, record.primary) === latest;
  if (current !== latest || record.intents === undefined || !primaryIsLatest) return { status: 'ok', generation: current, changed: false };
  raiseGeneration(record.replicas, record.primary, latest + 1);
  state.touch(record.id);
  if (target !== record.primary) return { status: 'ok', generation: current, changed: false };
  record.primaryBase = latest + 1;
  return { status: 'ok', generation: latest + 1, changed: true };
}

/** Upstream's accept-dataloss: the storage's copy alone becomes the latest (latest + 1); the others will be replicated from it. */
export function applyAcceptDataloss(state: ClusterState, command: AcceptDatalossCommand): AcceptDatalossResult {
  const record = state.repository(command.repositoryId);
  if (record === undefined) return { status: 'not-found', repositoryId: command.repositoryId };
  const storage = state.storages.lookup(command.storage) ?? NO_STORAGE;
  if (storage === NO_STORAGE || generationOf(record.replicas, storage) < 0) return conflict(state, record, storage, 'no-replica');
  const next = latestGeneration(record.replicas) + 1;
  raiseGeneration(record.replicas, storage, next);
  state.touch(record.id);
  return { status: 'ok', generation: next };
}

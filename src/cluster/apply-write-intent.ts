import type { ClusterState } from './cluster-state.js';
import type { DiscardWriteIntentResult, RecordWriteIntentResult, ResolveWriteIntentResult } from './command-results.js';
import type { DiscardWriteIntentCommand, RecordWriteIntentCommand, ResolveWriteIntentCommand } from './commands.js';
import { conflict } from './generation-conflict.js';
import { consensusHealth } from './health.js';
import { generationOf, latestGeneration, raiseGeneration, replicas } from './replica-set.js';
import { NO_STORAGE } from './repository-record.js';
import { addIntent, findIntent, MAX_INTENTS_PER_REPOSITORY, removeIntent } from './write-intents.js';

/**
 * DESIGN §10: before forwarding a mutator, the router records the write it is
 * about to make. Refused unless `primary` is still the primary, on the latest
 * generation, at exactly the generation the call was routed with: nothing has
 * been forwarded yet, so the router can simply re-route. Recording the same
 * intent twice (a retried proposal) is a no-op.
 */
export function applyRecordWriteIntent(state: ClusterState, command: RecordWriteIntentCommand): RecordWriteIntentResult {
  const record = state.repository(command.repositoryId);
  if (record === undefined) return { status: 'not-found', repositoryId: command.repositoryId };
  const primary = state.storages.lookup(command.primary) ?? NO_STORAGE;
  if (primary === NO_STORAGE || record.primary !== primary) return conflict(state, record, record.primary, 'primary-changed');
  const current = generationOf(record.replicas, primary);
  if (current !== latestGeneration(record.replicas)) return conflict(state, record, primary, 'primary-outdated');
  if (current !== command.generation) return conflict(state, record, primary, 'generation-changed');
  if (findIntent(record, command.intentId)) return { status: 'ok' };
  if ((record.intents?.length ?? 0) >= MAX_INTENTS_PER_REPOSITORY) return conflict(state, record, primary, 'too-many-intents');
  addIntent(record, { intentId: command.intentId, router: command.router, storage: primary, generation: current, recordedAtMs: state.clusterTimeMs });
  state.touch(record.id);
  return { status: 'ok' };
}

/** Removes an intent whose write changed nothing (see DiscardWriteIntentCommand); no generation moves. */
export function applyDiscardWriteIntent(state: ClusterState, command: DiscardWriteIntentCommand): DiscardWriteIntentResult {
  const record = state.repository(command.repositoryId);
  if (record === undefined) return { status: 'not-found', repositoryId: command.repositoryId };
  if (removeIntent(record, command.intentId) === undefined) return { status: 'not-found', repositoryId: command.repositoryId, intentId: command.intentId };
  state.touch(record.id);
  return { status: 'ok' };
}

/**
 * Settles an intent whose bump never came (its router died, or the call
 * failed) or was refused. The written storage may hold a write no generation
 * accounts for. If it is already behind the latest generation, replication
 * will overwrite it and nothing else is needed. Otherwise it looks up to
 * date, so it must stop looking alike to copies that may differ:
 * - written storage unhealthy (typically the node died with the call) and
 *   another replica on the latest generation healthy: that one (the primary
 *   if it is one) becomes the only latest instead, so failover stays
 *   possible; the written storage, whose write was never acknowledged, is
 *   re-synced when it returns. Only one copy moves up because others may have
 *   taken part of the write too (reference transactions).
 * - otherwise: one copy is made the only latest, the current primary if it
 *   is on the latest generation, else the written storage; every other
 *   replica is re-synced from it.
 */
export function applyResolveWriteIntent(state: ClusterState, command: ResolveWriteIntentCommand): ResolveWriteIntentResult {
  const record = state.repository(command.repositoryId);
  if (record === undefined) return { status: 'not-found', repositoryId: command.repositoryId };
  const intent = removeIntent(record, command.intentId);
  if (intent === undefined) return { status: 'not-found', repositoryId: command.repositoryId, intentId: command.intentId };
  state.touch(record.id);
  const latest = latestGeneration(record.replicas);
  if (generationOf(record.replicas, intent.storage) < latest) return { status: 'ok', authoritative: null, generation: null };
  const health = consensusHealth(state);
  if (!health.isHealthy(record.virtualStorage, intent.storage)) {
    const candidates = replicas(record.replicas).filter((r) => r.storage !== intent.storage && r.generation === latest && health.isHealthy(record.virtualStorage, r.storage));
    const chosen = candidates.find((r) => r.storage === record.primary) ?? candidates[0];
    if (chosen !== undefined) {
      raiseGeneration(record.replicas, chosen.storage, latest + 1);
      return { status: 'ok', authoritative: state.storages.name(chosen.storage), generation: latest + 1 };
    }
  }
  const primaryIsLatest = record.primary !== NO_STORAGE && generationOf(record.replicas, record.primary) === latest;
  const authoritative = primaryIsLatest ? record.primary : intent.storage;
  raiseGeneration(record.replicas, authoritative, latest + 1);
  return { status: 'ok', authoritative: state.storages.name(authoritative), generation: latest + 1 };
}

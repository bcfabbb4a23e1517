import { applyAcceptDataloss, applyBumpGeneration, applySetReplicaGeneration } from './apply-generation.js';
import { applyCreateRepository, applyDeleteRepository, applySetAssignments, applySetReplicationFactor } from './apply-repository.js';
import { applyForgetRouter, applyHealthUpdate, applyLivenessRefresh, applySetSettings } from './apply-router.js';
import { applyDiscardWriteIntent, applyRecordWriteIntent, applyResolveWriteIntent } from './apply-write-intent.js';
import type { ClusterState } from './cluster-state.js';
import { advanceClusterTime } from './cluster-time.js';
import { decodeCommand } from './command-codec.js';
import type { CommandResult, InvalidResult, ResultByType } from './command-results.js';
import type { ClusterCommand, CommandType } from './commands.js';
import { applyElectPrimary } from './election.js';
import { CommandDecodeError } from './errors.js';
import { checkRepositoryInvariants } from './invariants.js';

type Handlers = { readonly [T in CommandType]: (state: ClusterState, command: Extract<ClusterCommand, { type: T }>) => ResultByType[T] };

const HANDLERS: Handlers = {
  'health-update': applyHealthUpdate,
  'liveness-refresh': applyLivenessRefresh,
  'forget-router': applyForgetRouter,
  'set-settings': applySetSettings,
  'create-repository': applyCreateRepository,
  'delete-repository': applyDeleteRepository,
  'elect-primary': applyElectPrimary,
  'bump-generation': applyBumpGeneration,
  'set-replica-generation': applySetReplicaGeneration,
  'record-write-intent': applyRecordWriteIntent,
  'resolve-write-intent': applyResolveWriteIntent,
  'discard-write-intent': applyDiscardWriteIntent,
  'set-assignments': applySetAssignments,
  'set-replication-factor': applySetReplicationFactor,
  'accept-dataloss': applyAcceptDataloss,
};

/**
 * Applies one command. Deterministic: it reads only the state and the command
 * (time is the command's stamp, folded into cluster time first), so every
 * replica computes the same result. The repository it touched is checked
 * against the invariants; a violation throws and halts the state machine.
 */
export function applyCommand<C extends ClusterCommand>(state: ClusterState, command: C): ResultByType[C['type']] {
  advanceClusterTime(state, command.router, command.stampMs);
  // The table is keyed by type, so the handler matches the command; TypeScript cannot correlate the union.
  const handler = HANDLERS[command.type] as unknown as (state: ClusterState, command: C) => ResultByType[C['type']];
  const result = handler(state, command);
  if ('repositoryId' in command) {
    const record = state.repository(command.repositoryId);
    if (record) checkRepositoryInvariants(state, record);
  }
  return result;
}

/** Applies an entry's payload: undefined for entries without one, `invalid` (and no change) for bytes that are not a command. */
export function applyPayload(state: ClusterState, payload: Uint8Array | undefined): CommandResult | undefined {
  if (payload === undefined) return undefined;
  let command: ClusterCommand;
  try {
    command = decodeCommand(payload);
  } catch (error) {
    if (error instanceof CommandDecodeError) return invalidResult(error);
    throw error;
  }
  return applyCommand(state, command);
}

function invalidResult(error: CommandDecodeError): InvalidResult {
  return { status: 'invalid', code: error.code, field: error.field, message: error.message };
}

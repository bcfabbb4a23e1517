// gitaly.RefTransaction served over a TransactionManager: the router's end
// of the vote. Wire-compatible with Gitaly's transaction.proto; errors map
// to upstream's statuses (NOT_FOUND, CANCELLED), a failed vote is an ABORT
// answer and a stopped transaction a STOP answer, not errors.
import * as grpc from '@grpc/grpc-js';
import { guardService, type ServerAuthOptions } from '../auth/index.js';
import { isMalformed, requireService } from '../protocol/index.js';
import { TransactionError } from './errors.js';
import type { TransactionManager, VoteOutcome, VotePhase } from './transaction-manager.js';

export const REF_TRANSACTION_SERVICE = 'gitaly.RefTransaction';

export interface VoteRequest {
  transaction_id: number;
  node: string;
  reference_updates_hash: Uint8Array;
  /** The Phase enum's name, e.g. "PREPARED_PHASE". */
  phase: string;
}

export interface VoteResponse {
  state: 'COMMIT' | 'ABORT' | 'STOP';
}

export interface StopRequest {
  transaction_id: number;
}

const PHASES: Readonly<Record<string, VotePhase>> = {
  UNKNOWN_PHASE: 'unknown',
  PREPARING_PHASE: 'preparing',
  PREPARED_PHASE: 'prepared',
  COMMITTED_PHASE: 'committed',
  SYNCHRONIZED_PHASE: 'synchronized',
};

const STATES: Readonly<Record<VoteOutcome, VoteResponse['state']>> = { commit: 'COMMIT', abort: 'ABORT', stop: 'STOP' };

export function refTransactionService(manager: TransactionManager): grpc.UntypedServiceImplementation {
  const voteTransaction: grpc.handleUnaryCall<VoteRequest, VoteResponse> = (call, callback) => {
    const request = call.request;
    if (isMalformed(request)) return callback(status(grpc.status.INVALID_ARGUMENT, `malformed request: ${request.malformed}`));
    const controller = new AbortController();
    call.once('cancelled', () => controller.abort());
    castVote(manager, request, controller.signal).then(
      (response) => callback(null, response),
      (error: unknown) => callback(errorStatus(error)),
    );
  };
  const stopTransaction: grpc.handleUnaryCall<StopRequest, object> = (call, callback) => {
    const request = call.request;
    if (isMalformed(request)) return callback(status(grpc.status.INVALID_ARGUMENT, `malformed request: ${request.malformed}`));
    try {
      callback(null, stopOne(manager, request));
    } catch (error) {
      callback(errorStatus(error));
    }
  };
  return { VoteTransaction: voteTransaction, StopTransaction: stopTransaction };
}

/**
 * Casts the vote of a decoded VoteTransactionRequest. When `signal` aborts
 * before the answer (the voter hung up), the voter is withdrawn, as
 * upstream withdraws the vote of a cancelled call.
 */
export async function castVote(manager: TransactionManager, request: VoteRequest, signal?: AbortSignal): Promise<VoteResponse> {
  let answered = false;
  const withdraw = (): void => {
    if (answered) return;
    try {
      manager.cancelVoter(request.transaction_id, request.node);
    } catch {
      // The transaction ended meanwhile: nothing to withdraw.
    }
  };
  signal?.addEventListener('abort', withdraw, { once: true });
  try {
    const outcome = await manager.vote(request.transaction_id, request.node, request.reference_updates_hash, PHASES[request.phase] ?? 'unknown');
    return { state: STATES[outcome] };
  } finally {
    answered = true;
    signal?.removeEventListener('abort', withdraw);
  }
}

function stopOne(manager: TransactionManager, request: StopRequest): object {
  manager.stop(request.transaction_id);
  return {};
}

/** Adds RefTransaction to a server, behind the v2 token check when `auth` has a token. */
export function addRefTransactionService(server: grpc.Server, manager: TransactionManager, auth?: ServerAuthOptions): void {
  const definition = requireService(REF_TRANSACTION_SERVICE, 'server');
  const implementation = refTransactionService(manager);
  server.addService(definition, auth === undefined ? implementation : guardService(definition, implementation, auth));
}

export function errorStatus(error: unknown): grpc.ServerErrorResponse {
  if (!(error instanceof TransactionError)) return status(grpc.status.INTERNAL, error instanceof Error ? error.message : String(error));
  switch (error.code) {
    case 'not_found':
      return status(grpc.status.NOT_FOUND, error.message);
    case 'cancelled':
      return status(grpc.status.CANCELLED, error.message);
    case 'too_many_transactions':
    case 'too_many_voters':
    case 'too_many_subtransactions':
      return status(grpc.status.RESOURCE_EXHAUSTED, error.message);
    default:
      return status(grpc.status.INVALID_ARGUMENT, error.message);
  }
}

function status(code: grpc.status, details: string): grpc.ServerErrorResponse {
  return Object.assign(new Error(details), { code, details });
}

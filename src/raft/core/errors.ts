import type { NodeId } from './types.js';

/**
 * Errors with stable codes. Callers branch on `code`, never on message text;
 * the gRPC layer maps codes to status in one place.
 */
export abstract class RaftError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
  abstract readonly code: string;
  /** Whether the same request may succeed if tried again later. */
  abstract readonly retryable: boolean;
}

/** This node cannot accept the request; `leaderHint` is the leader it knows of, or 0. */
export class NotLeaderError extends RaftError {
  readonly code = 'RAFT_NOT_LEADER';
  readonly retryable = true;
  constructor(readonly leaderHint: NodeId, detail = 'no leader known') {
    super(`not leader: ${detail}${leaderHint ? ` (leader hint: ${leaderHint})` : ''}`);
  }
}

/** The proposal was dropped, e.g. during a leadership transfer. Retry later. */
export class ProposalDroppedError extends RaftError {
  readonly code = 'RAFT_PROPOSAL_DROPPED';
  readonly retryable = true;
  constructor(reason: string) {
    super(`proposal dropped: ${reason}`);
  }
}

/** The leader's uncommitted log is at its bound: back off. */
export class UncommittedLogFullError extends RaftError {
  readonly code = 'RAFT_UNCOMMITTED_LOG_FULL';
  readonly retryable = true;
  constructor(readonly uncommittedBytes: number, readonly limitBytes: number) {
    super(`uncommitted log is full: ${uncommittedBytes} of ${limitBytes} bytes in use`);
  }
}

/** A configuration change was refused (one already pending, no-op not committed, bad target). */
export class ConfChangeRefusedError extends RaftError {
  readonly code = 'RAFT_CONF_CHANGE_REFUSED';
  readonly retryable: boolean;
  constructor(reason: string, retryable: boolean) {
    super(`configuration change refused: ${reason}`);
    this.retryable = retryable;
  }
}

/** The requested entries were compacted into a snapshot. */
export class CompactedError extends RaftError {
  readonly code = 'RAFT_COMPACTED';
  readonly retryable = false;
  constructor(index: number, firstIndex: number) {
    super(`index ${index} is compacted (first index ${firstIndex})`);
  }
}

/** The requested entries are beyond the last index. */
export class UnavailableError extends RaftError {
  readonly code = 'RAFT_UNAVAILABLE';
  readonly retryable = false;
  constructor(index: number, lastIndex: number) {
    super(`index ${index} is unavailable (last index ${lastIndex})`);
  }
}

/** A broken internal invariant: the node must stop rather than continue wrong. */
export class RaftInvariantError extends RaftError {
  readonly code = 'RAFT_INVARIANT';
  readonly retryable = false;
  constructor(detail: string) {
    super(`raft invariant violated: ${detail}`);
  }
}

export function invariant(condition: boolean, detail: () => string): asserts condition {
  if (!condition) throw new RaftInvariantError(detail());
}

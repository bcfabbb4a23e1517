import { RaftError } from './core/errors.js';

/** The proposal may or may not have committed: the caller must treat its outcome as unknown. */
export class ProposalTimeoutError extends RaftError {
  readonly code = 'RAFT_PROPOSAL_TIMEOUT';
  readonly retryable = true;
  constructor(timeoutMs: number, what = 'proposal') {
    super(`${what} not applied within ${timeoutMs} ms; its outcome is unknown`);
  }
}

export class ProposalTooLargeError extends RaftError {
  readonly code = 'RAFT_PROPOSAL_TOO_LARGE';
  readonly retryable = false;
  constructor(sizeBytes: number, limitBytes: number) {
    super(`proposal of ${sizeBytes} bytes exceeds the limit of ${limitBytes} bytes`);
  }
}

/** A bounded queue of the driver is full: shed load (RESOURCE_EXHAUSTED at the gRPC edge). */
export class TooManyPendingError extends RaftError {
  readonly code = 'RAFT_TOO_MANY_PENDING';
  readonly retryable = true;
  constructor(what: string, limit: number) {
    super(`too many pending ${what} (limit ${limit})`);
  }
}

export class DriverStoppedError extends RaftError {
  readonly code = 'RAFT_STOPPED';
  readonly retryable = true;
  constructor() {
    super('raft node is stopped');
  }
}

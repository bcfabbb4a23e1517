// Errors of the voting engine. Each has a stable code; the RefTransaction
// service maps the codes to gRPC statuses (errorStatus in ref-transaction-service.ts).

export type TransactionErrorCode =
  | 'not_found'
  | 'cancelled'
  | 'no_voters'
  | 'duplicate_voter'
  | 'invalid_votes'
  | 'invalid_threshold'
  | 'too_many_transactions'
  | 'too_many_voters'
  | 'too_many_subtransactions'
  | 'unknown_voter'
  | 'invalid_hash'
  | 'already_voted'
  | 'malformed_request';

export class TransactionError extends Error {
  constructor(
    readonly code: TransactionErrorCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class TransactionNotFoundError extends TransactionError {
  constructor(id: number) {
    super('not_found', `transaction ${id} not found`);
  }
}

export class TransactionCancelledError extends TransactionError {
  constructor(id: number) {
    super('cancelled', `transaction ${id} has been cancelled`);
  }
}

/** A registration the manager refuses: no voters, duplicates, a threshold that allows two quorums or none. */
export class InvalidTransactionError extends TransactionError {}

/** A bound on transactions, voters or subtransactions was reached. */
export class TransactionLimitError extends TransactionError {}

/** A vote the manager refuses: unknown node, malformed hash, a second vote in one subtransaction. */
export class InvalidVoteError extends TransactionError {}

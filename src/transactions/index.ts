// Reference transactions on the router: the voting engine and the
// RefTransaction service that storage nodes vote through.
export {
  TransactionError,
  TransactionNotFoundError,
  TransactionCancelledError,
  InvalidTransactionError,
  TransactionLimitError,
  InvalidVoteError,
  type TransactionErrorCode,
} from './errors.js';
export { primaryQuorum, validatePlan, type Voter, type VotingPlan } from './voters.js';
export type { VoterResult } from './subtransaction.js';
export type { TransactionState, TransactionSummary } from './transaction.js';
export {
  TransactionManager,
  DEFAULT_TRANSACTION_OPTIONS,
  SHA1_BYTES,
  randomTransactionId,
  type TransactionManagerOptions,
  type VoteOutcome,
  type VotePhase,
} from './transaction-manager.js';
export { TransactionMetrics, type TransactionAction } from './transaction-metrics.js';
export { realVoteTimers, ManualVoteTimers, type VoteTimers, type TimerHandle } from './vote-timers.js';
export {
  refTransactionService,
  addRefTransactionService,
  castVote,
  errorStatus,
  REF_TRANSACTION_SERVICE,
  type VoteRequest,
  type VoteResponse,
  type StopRequest,
} from './ref-transaction-service.js';
export { RefTransactionAnswers, VOTE_TRANSACTION_PATH, STOP_TRANSACTION_PATH } from './ref-transaction-answers.js';
export {
  TRANSACTION_METADATA_KEY,
  TRANSACTION_TIME_METADATA_KEY,
  PRAEFECT_SERVER_METADATA_KEY,
  encodeTransactionMetadata,
  encodePraefectServerMetadata,
  withTransaction,
  type TransactionInfo,
  type PraefectServerInfo,
} from '../gitaly/index.js';

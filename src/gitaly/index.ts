// The storage node: Gitaly's protocol over real repositories with the git CLI.
export { main } from './main.js';
export { startGitalyNode, createNodeContext, type RunningNode, type StartOptions } from './node-server.js';
export { parseConfig, parseConfigToml, loadConfigFile, ConfigError, type GitalyConfig, type StorageConfig } from './config.js';
export {
  GitalyError,
  InvalidArgumentError,
  NotFoundError,
  AlreadyExistsError,
  FailedPreconditionError,
  AbortedError,
  ResourceExhaustedError,
  DeadlineExceededError,
  CancelledError,
  UnavailableError,
  DataLossError,
  InternalError,
  toServiceError,
  grpcStatusOf,
  type ErrorCode,
} from './errors.js';
export { validateRelativePath } from './relative-path.js';
export { gitalyClient, grpcTarget, type ClientOptions } from './gitaly-client.js';
export {
  GITALY_SERVERS_METADATA_KEY,
  encodeGitalyServers,
  parseGitalyServers,
  withGitalyServers,
  type GitalyServers,
  type ServerAddress,
} from './gitaly-servers.js';
export { checksumOfShowRef, ZERO_CHECKSUM } from './git/index.js';
export {
  TRANSACTION_METADATA_KEY,
  TRANSACTION_TIME_METADATA_KEY,
  PRAEFECT_SERVER_METADATA_KEY,
  encodeTransactionMetadata,
  encodePraefectServerMetadata,
  parseTransactionContext,
  withTransaction,
  voteTarget,
  type TransactionInfo,
  type PraefectServerInfo,
  type TransactionContext,
} from './transaction-metadata.js';
export { VoteClient, VoteFailedError, type VoteVerdict, type VoteClientOptions } from './vote-client.js';
export { refUpdatesHash, isForceDeletionsOnly } from './ref-updates-vote.js';
export {
  WRITE_MARKER_METADATA_KEY,
  WriteMarkerError,
  decodeWriteMarker,
  encodeWriteMarker,
  parseWriteMarker,
  withWriteMarker,
  type WriteMarker,
} from './write-marker.js';
export { WriteLog, ROTATED_SUFFIX, type WriteLogEntry, type WriteLogStats } from './write-log.js';

// The router's (bin/praefect) TOML configuration: upstream Praefect's key
// names where the concept is the same, plus [raft] and [routing]. Every
// problem in a file is reported at once, by key path; secrets never appear in
// errors or in the redacted view.
export { parseConfig, parseConfigToml, loadConfigFile } from './parse-config.js';
export { ConfigError, type ConfigProblem } from './errors.js';
export { redacted, REDACTED } from './redact.js';
export { DEFAULTS, BOUNDS } from './defaults.js';
export { parseDurationMs, formatDurationMs, type DurationParse } from './duration.js';
export { LOG_LEVELS } from './config-schema.js';
export { SSL_MODES } from './database-schema.js';
export type {
  PraefectConfig,
  VirtualStorageConfig,
  NodeConfig,
  FailoverConfig,
  ErrorThresholds,
  ReplicationConfig,
  ReconciliationConfig,
  DatabaseConfig,
  RaftConfig,
  RaftPeer,
  RoutingConfig,
  TransactionsConfig,
  LogLevel,
  SslMode,
} from './praefect-config.js';
export { NodeDirectory, type NodeAddress } from './node-directory.js';

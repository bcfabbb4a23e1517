// PostgreSQL: the repository catalogue and the replication queue (DESIGN §6),
// a bounded pool in front of them, versioned migrations, and an embedded
// server for tests and local clusters. Failover never depends on this folder.
export {
  DatabaseError,
  DatabaseUnavailableError,
  EmbeddedDatabaseError,
  MigrationError,
  PoolExhaustedError,
  QueryFailedError,
  QueryTimeoutError,
  RepositoryExistsError,
} from './errors.js';
export { DatabasePool } from './pool.js';
export type { ConnectionSettings, PoolOptions, PoolStats, Queryable } from './pool.js';
export { EmbeddedDatabase } from './embedded-database.js';
export type { EmbeddedDatabaseOptions, EmbeddedDatabaseState } from './embedded-database.js';
export { MIGRATIONS, assertMigrated, migrate, migrationStatus } from './migrations.js';
export type { Migration, MigrationState, MigrationStatusRow } from './migrations.js';
export { RepositoryStore } from './repository-store.js';
export type { ListOptions, NewRepository, RepositoryRecord } from './repository-store.js';
export { derivePoolPath, deriveReplicaPath, isRailsPoolPath, replicaPathFor } from './replica-path.js';
export { ReplicationQueue } from './replication-queue.js';
export type {
  AckOutcome,
  AckResult,
  DeadJobCount,
  DequeueRequest,
  EnqueueResult,
  QueueDepthRow,
  ReplicationQueueOptions,
  SweepResult,
} from './replication-queue.js';
export { lockKeyOf } from './replication-job.js';
export type {
  ChangeType,
  ClaimedJob,
  JobClaim,
  JobState,
  JsonObject,
  JsonValue,
  QueuedJob,
  ReplicationJob,
} from './replication-job.js';

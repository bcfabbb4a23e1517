// Replication (DESIGN §9, §10): the worker every router runs, which copies
// replicas between storage nodes and records their new generation in Raft,
// and the reconciler the Raft leader runs, which schedules jobs for outdated
// replicas and settles write intents of routers that died.
export {
  ReplicationError,
  UnknownNodeError,
  UnsupportedChangeError,
  NoSourceError,
  GenerationConflictError,
  NodeCallError,
  ReplicationTimeoutError,
  ReplicationOptionsError,
} from './errors.js';
export { NodeClientPool, type NodeClientPoolOptions, type UnaryCallOptions } from './node-client-pool.js';
export { replicateReplica, removeReplica, type NodeCallBounds } from './storage-node-ops.js';
export { runReplicationJob, type JobDone, type JobRunnerDeps } from './replication-job-runner.js';
export { ReplicationWorker, replicationQueueOptions, type ReplicationWorkerOptions, type JobReport } from './replication-worker.js';
export { Reconciler, type ReconcilerOptions, type ReconcilePass } from './reconciler.js';
export { ReplicationMetrics } from './replication-metrics.js';

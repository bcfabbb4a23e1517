// The router's routing decisions over the replicated cluster state (DESIGN
// §7-§8): reads to up-to-date healthy replicas, writes to an elected primary
// with a write intent and a generation bump, creation through PostgreSQL and
// Raft, removal through Raft.
export { createClusterRouter, CREATING_METHODS, REMOVING_METHODS, STALE_READ_METADATA_KEY } from './cluster-router.js';
export type { ClusterRouterOptions, JobSink, NodeResultObserver, Reachability, RepositoryCatalogue, RouterTransactions, TxReplicationReason } from './router-deps.js';
export { TRANSACTIONAL_METHODS, NON_TRANSACTIONAL_MUTATORS, transactionClassificationProblems } from './transactional-methods.js';
export { secondaryVerdicts } from './transaction-route.js';
export { deleteReplicaJob, updateJob } from './replication-jobs.js';
export { PostgresCatalogue } from './postgres-catalogue.js';

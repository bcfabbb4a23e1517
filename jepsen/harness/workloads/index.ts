// The workloads: per-repository registers, append lists, the cluster state
// register, and set-full.
export { WORKLOAD_NAMES, repositoryOf, type ClusterClients, type PlannedOp, type Workload, type WorkloadName } from './workload.js';
export { KeyPool, type KeyPoolOptions, type LiveKey } from './key-pool.js';
export { registerWorkload, type KeyedWorkloadOptions } from './register-workload.js';
export { appendWorkload, setFullWorkload } from './list-workloads.js';
export { clusterStateWorkload, type ClusterStateValue } from './cluster-state-workload.js';

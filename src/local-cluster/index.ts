// A whole cluster of real processes on one machine, for `bin/cluster up`,
// integration tests, benchmarks and the Jepsen harness.
export { LocalCluster, storageDirOf, type ClusterMember, type LocalClusterOptions, type RouterMember, type StorageMember } from './local-cluster.js';
export { ManagedProcess, ProcessStartError, type ProcessSpec } from './managed-process.js';
export { loadOrCreateLayout, LayoutError, type ClusterLayout, type LayoutRouter, type LayoutNode } from './cluster-layout.js';

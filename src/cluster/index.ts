// The replicated cluster state (DESIGN §5): commands, apply(), queries, the
// snapshot format, and the Raft state machines that hold it (LevelDB, memory).
export type * from './commands.js';
export type * from './command-results.js';
export type * from './cluster-view.js';
export { COMMAND_VERSION, decodeCommand, encodeCommand } from './command-codec.js';
export { LIMITS } from './command-fields.js';
export { DEFAULT_SETTINGS, type ClusterSettings } from './cluster-settings.js';
export { ClusterState } from './cluster-state.js';
export { ClusterQueries } from './cluster-queries.js';
export { applyCommand, applyPayload } from './apply-command.js';
export { checkRepositoryInvariants, checkStateInvariants } from './invariants.js';
export { derivedReplicaPath } from './repository-record.js';
export { SNAPSHOT_FORMAT, SNAPSHOT_VERSION, decodeSnapshot, encodeSnapshot } from './snapshot-codec.js';
export type { ClusterStateMachine } from './cluster-state-machine.js';
export { MemoryClusterStateMachine } from './memory-cluster-state-machine.js';
export { LevelClusterStateMachine, type LevelClusterStateMachineOptions } from './level-cluster-state-machine.js';
export { stateDigest, type StateDigest } from './state-digest.js';
export { ClusterError, ClusterViewError, ClusterInvariantError, CommandDecodeError, SnapshotFormatError, StoredStateError } from './errors.js';
export type { BodyOf, ClusterAccess } from './cluster-access.js';
export { MemoryClusterLog } from './memory-cluster-access.js';

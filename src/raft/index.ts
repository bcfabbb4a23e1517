// The public face of src/raft: the pure core, the driver that runs it, the
// storage and state-machine contracts, and the gRPC transport.
export * from './core/index.js';
export type { LogStore, PersistBatch } from './log-store.js';
export type { AppliedCommand, StateMachine } from './state-machine.js';
export { RaftDriver, type RaftDriverOptions, type RaftDriverStats, type RaftTransportPort } from './driver.js';
export * from './driver-errors.js';
export { GrpcTransport, raftServerOptions, type GrpcTransportOptions } from './transport-grpc.js';
export { raftErrorStatus } from './grpc-status.js';
export { registerRaftMetrics } from './metrics.js';

// Durable stores: the Raft log (LevelDB, and in memory for the simulator) and
// the demo key/value state machine.
export { LevelLogStore } from './level-log-store.js';
export { MemoryLogStore } from './memory-log-store.js';
export type { MemoryLogStoreOptions, SyncMode } from './memory-log-store.js';
export { LogStoreClosedError } from './mirrored-log-store.js';
export { EMPTY_IMAGE } from './log-mirror.js';
export type { LogBase, LogImage } from './log-mirror.js';
export { LevelKvStateMachine } from './level-kv-state-machine.js';
export { KvCommandError, decodeKvCommand, encodeKvCommand } from './kv-command.js';
export type { KvCommand } from './kv-command.js';

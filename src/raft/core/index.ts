export * from './types.js';
export * from './errors.js';
export type { RaftStorage } from './storage.js';
export { type RaftConfig, type RaftOptions, DEFAULT_RAFT_CONFIG, resolveRaftConfig } from './config.js';
export { SeededPrng, type Prng } from './prng.js';
export { RawNode, type RaftStatus } from './raw-node.js';
export { Raft } from './raft.js';
export { bootstrapEntries, encodeConfChange, decodeConfChange, validateConfChange } from './conf-change.js';
export { committedIndex, voteResult, majority } from './quorum.js';

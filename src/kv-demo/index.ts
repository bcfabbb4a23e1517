// A key/value service over the Raft group: the demo behind `npm start` until
// the router exists, and the target of the Raft integration tests and benchmark.
export { KvNode, type KvNodeOptions } from './kv-node.js';
export { KvClient, type KvStatus } from './kv-proto.js';
export { LocalGroup, type LocalGroupOptions } from './local-group.js';
export { parseMembers, formatMembers } from './members.js';

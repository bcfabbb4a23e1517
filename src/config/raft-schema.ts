// [raft]: this router's place in the routers' own Raft group. node_id,
// data_dir and peers have no default: a wrong guess would split a cluster.
import { z } from 'zod';
import { BOUNDS, DEFAULTS } from './defaults.js';
import { absolutePath, count, duration, hostPort, secret } from './fields.js';

const b = BOUNDS.raft;
const d = DEFAULTS.raft;
const nodeId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

export const peerSchema = z.strictObject({
  id: nodeId,
  address: hostPort,
});

export const raftSchema = z.strictObject({
  node_id: nodeId,
  data_dir: absolutePath,
  // Founding voters, this router included. With join = true: where to reach
  // the group's members, and this router's own Raft listener.
  peers: z.array(peerSchema).min(1, 'list every founding member, this router included').max(b.peers.max),
  tick: duration({ minMs: b.tickMs.min, maxMs: b.tickMs.max }).default(d.tickMs),
  election_ticks: count(b.electionTicks.min, b.electionTicks.max).default(d.electionTicks),
  heartbeat_ticks: count(b.heartbeatTicks.min, b.heartbeatTicks.max).default(d.heartbeatTicks),
  snapshot_every_entries: count(b.snapshotEveryEntries.min, b.snapshotEveryEntries.max).default(d.snapshotEveryEntries),
  proposal_timeout: duration({ minMs: b.proposalTimeoutMs.min, maxMs: b.proposalTimeoutMs.max }).default(d.proposalTimeoutMs),
  // Between routers; empty falls back to [auth] token.
  token: secret.default(''),
  // Raft traffic over TLS with [tls]'s certificate; peers are checked against ca_file (default: the system's roots).
  tls: z.boolean().default(false),
  ca_file: absolutePath.optional(),
  // true: this router joins a running group instead of founding one. It starts
  // as no member at all and waits until an operator adds it
  // (`members add-learner --id <node_id> --raft-address <its peers address>`,
  // then `members promote`). Only read while its data_dir is empty: a router
  // that has a Raft log keeps the membership its log says.
  join: z.boolean().default(false),
});

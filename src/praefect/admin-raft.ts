// The admin API's Raft side: this member's status, membership changes (with
// the new member's address remembered in the data dir), leadership transfer.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AdminRequestError, requireField, type ChangeMembershipRequest, type ChangeMembershipResponse, type RaftStatusRequest, type RaftStatusResponse, type TransferLeaderResponse } from '../admin/index.js';
import { validateConfChange, type ConfChange } from '../raft/index.js';
import type { AdminServiceDeps } from './admin-deps.js';
import { POLL_INTERVAL_MS, withTimeout } from './admin-handlers.js';

const CONF_CHANGE_TIMEOUT_MS = 10_000;
export async function raftStatusOf(deps: AdminServiceDeps, request: RaftStatusRequest = {}): Promise<RaftStatusResponse> {
  // The digest first: it waits for the apply in progress, and the status read after it is at least as new.
  const digest = request.with_digest === true ? await deps.access.view.stateDigest() : undefined;
  const s = deps.driver.status();
  return {
    router: deps.access.routerName,
    id: s.id,
    term: s.term,
    leader: s.lead,
    role: s.role,
    commit: s.commit,
    applied: s.applied,
    last_index: s.lastIndex,
    voters: [...s.confState.voters],
    learners: [...s.confState.learners],
    progress: [...s.progress].map(([id, p]) => ({ id, match: p.match, next: p.next, state: p.state, recent_active: p.recentActive })),
    state_digest: digest?.digest ?? '',
    digest_index: digest?.index ?? 0,
    transactions_in_flight: deps.transactionsInFlight?.() ?? 0,
  };
}
export function addRaftPeer(deps: AdminServiceDeps, request: { node_id: number; raft_address: string }): object {
  if (deps.transport === undefined) throw new AdminRequestError('FAILED_PRECONDITION', 'this router cannot add Raft peers (no transport given to the admin service)');
  if (!(request.node_id > 0)) throw new AdminRequestError('INVALID_ARGUMENT', 'node_id: must be a positive Raft node id');
  const address = requireField(request.raft_address, 'raft_address');
  if (!/^[^:\s]+:\d{1,5}$/.test(address)) throw new AdminRequestError('INVALID_ARGUMENT', `raft_address: "${address}" is not HOST:PORT`);
  if (deps.raftDataDir !== undefined) rememberPeer(deps.raftDataDir, request.node_id, address);
  deps.transport.setPeer(request.node_id, address);
  return {};
}
// Raft's configuration entries carry node ids only, so an address told to a
// router (AddRaftPeer) lives outside the log: in this file of its data_dir.
const LEARNED_PEERS_FILE = 'learned-peers.json';
/** A bound on the file: far more members than a Raft group should ever have. */
const MAX_LEARNED_PEERS = 256;
/** The addresses AddRaftPeer recorded in this data_dir, by node id; empty when there are none. */
export function loadLearnedPeers(raftDataDir: string): Map<number, string> {
  const file = path.join(raftDataDir, LEARNED_PEERS_FILE);
  if (!existsSync(file)) return new Map();
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  const peers = new Map<number, string>();
  for (const [id, address] of Object.entries(parsed !== null && typeof parsed === 'object' ? parsed : {})) {
    if (Number.isSafeInteger(Number(id)) && Number(id) > 0 && typeof address === 'string' && address !== '') peers.set(Number(id), address);
  }
  return peers;
}
function rememberPeer(raftDataDir: string, nodeId: number, address: string): void {
  const peers = loadLearnedPeers(raftDataDir);
  if (peers.get(nodeId) === address) return;
  peers.set(nodeId, address);
  if (peers.size > MAX_LEARNED_PEERS) throw new AdminRequestError('FAILED_PRECONDITION', `this router already knows ${MAX_LEARNED_PEERS} learned peer addresses`);
  const file = path.join(raftDataDir, LEARNED_PEERS_FILE);
  // Write then rename: a crash leaves the old file or the new one, never half of one.
  writeFileSync(`${file}.tmp`, `${JSON.stringify(Object.fromEntries(peers), null, 2)}\n`, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}
const CONF_CHANGE_OF = { 'add-learner': 'addLearner', promote: 'promote', remove: 'remove' } as const;
export async function changeMembership(deps: AdminServiceDeps, request: ChangeMembershipRequest): Promise<ChangeMembershipResponse> {
  const type = CONF_CHANGE_OF[request.change as keyof typeof CONF_CHANGE_OF] as ConfChange['type'] | undefined;
  if (type === undefined) throw new AdminRequestError('INVALID_ARGUMENT', `change: must be add-learner, promote or remove, got "${request.change}"`);
  if (!(request.node_id > 0)) throw new AdminRequestError('INVALID_ARGUMENT', 'node_id: must be a positive Raft node id');
  if (type === 'addLearner') addRaftPeer(deps, { node_id: request.node_id, raft_address: request.raft_address ?? '' });
  const change: ConfChange = { type, nodeId: request.node_id };
  // A refused change forwarded to the leader is dropped there: refuse it here, against the latest configuration we know.
  const problem = validateConfChange(change, deps.driver.status().confState);
  if (problem !== undefined) throw new AdminRequestError('FAILED_PRECONDITION', `node_id: ${problem}`);
  const confState = await withTimeout(deps.driver.proposeConfChange(change), CONF_CHANGE_TIMEOUT_MS, `the ${request.change} of node ${request.node_id}`);
  return { voters: [...confState.voters], learners: [...confState.learners] };
}
export async function transferLeader(deps: AdminServiceDeps, to: number, timeoutMs: number): Promise<TransferLeaderResponse> {
  const status = deps.driver.status();
  if (!status.confState.voters.includes(to)) {
    throw new AdminRequestError('INVALID_ARGUMENT', `to: node ${to} is not a voter; voters are ${status.confState.voters.join(', ')}`);
  }
  if (status.lead === 0) throw new AdminRequestError('UNAVAILABLE', `router ${deps.access.routerName} knows no leader to transfer from`);
  if (status.lead !== to) deps.driver.transferLeadership(to);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = deps.driver.status();
    if (now.lead === to) return { leader: to, term: now.term };
    if (Date.now() > deadline) {
      throw new AdminRequestError('DEADLINE_EXCEEDED', `leadership did not move to node ${to} within ${timeoutMs} ms (leader is ${now.lead || 'unknown'}, term ${now.term})`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

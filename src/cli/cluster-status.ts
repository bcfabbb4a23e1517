// `bin/cluster status`: every router's Raft member, and one router's view of
// the cluster (storage health, repositories, the replication queue). The
// JSON form is stable: fields are only ever added.
import { AdminClient, type ClusterStateResponse, type QueueStatusResponse, type RaftStatusResponse } from '../admin/index.js';
import { ago, table } from './cluster-format.js';
import { CommandFailedError, describeError, type ClusterTarget } from './cluster-target.js';

export interface MemberStatus {
  readonly address: string;
  /** From cluster.json or the member's own answer; '' when unknown. */
  readonly router: string;
  readonly reachable: boolean;
  /** Why it could not be asked. */
  readonly error: string;
  readonly id: number;
  readonly role: string;
  readonly term: number;
  readonly leader: number;
  readonly commit: number;
  readonly applied: number;
  readonly last_index: number;
  /** Entries behind the highest commit index any member reported. */
  readonly lag: number;
  /** Cluster time of the router's last applied liveness refresh (0: never), from the source router's state. */
  readonly last_contact_ms: number;
  /** Reference transactions open on this router when asked. */
  readonly transactions_in_flight: number;
}

export interface StorageStatus {
  readonly virtual_storage: string;
  readonly storage: string;
  readonly healthy: boolean;
  readonly healthy_votes: number;
  readonly active_routers: number;
  /** When the quorum verdict last changed, as far as the routers' views tell (0: unknown). */
  readonly since_ms: number;
  readonly locally_reachable: boolean;
  readonly views: readonly { router: string; healthy: boolean; since_ms: number }[];
}

export interface StatusReport {
  readonly taken_at_ms: number;
  /** The router whose view of the cluster this is. */
  readonly source: { readonly address: string; readonly router: string };
  readonly fresh: boolean;
  readonly fresh_error: string;
  readonly applied_index: number;
  readonly cluster_time_ms: number;
  /** How far the source's applied index is behind the highest commit index any member reported. */
  readonly applied_lag: number;
  readonly raft: {
    readonly leader: number;
    readonly leader_router: string;
    readonly term: number;
    readonly voters: readonly number[];
    readonly learners: readonly number[];
    readonly members: readonly MemberStatus[];
  };
  readonly storages: readonly StorageStatus[];
  readonly routers: readonly { router: string; active: boolean; last_seen_ms: number }[];
  readonly repositories: { readonly total: number; readonly read_only: number; readonly unavailable: number; readonly with_outdated_replicas: number };
  readonly write_intents: {
    readonly total: number;
    readonly stale_total: number;
    readonly stale_age_ms: number;
    /** Oldest first, at most 20. */
    readonly stale: ClusterStateResponse['stale_intents'];
  };
  readonly replication_queue: QueueStatusResponse;
}

type Probe = { address: string; status?: RaftStatusResponse; error?: string };

export async function gatherStatus(target: ClusterTarget, timeoutMs = 5_000): Promise<StatusReport> {
  const clients = target.routers.map((address) => new AdminClient(address, { token: target.token, timeoutMs }));
  try {
    const probes: Probe[] = await Promise.all(
      clients.map((c) => c.raftStatus().then((status) => ({ address: c.address, status }), (error: unknown) => ({ address: c.address, error: describeError(error) }))),
    );
    const { client, state } = await firstClusterState(clients, probes);
    const queue = await client.queueStatus().catch((error: unknown) => ({ database_up: false, database_error: `the router did not answer: ${describeError(error)}`, depth: [], dead: [] }));
    return report(target, probes, client.address, state, queue);
  } finally {
    for (const c of clients) c.close();
  }
}

/**
 * The first reachable router that can answer fresh; failing that, the first
 * one's local state. A cut-off follower may hang on its ReadIndex: then its
 * local state is read without one, and the timeout is why it is not fresh.
 */
async function firstClusterState(clients: AdminClient[], probes: Probe[]): Promise<{ client: AdminClient; state: ClusterStateResponse }> {
  const failures: string[] = [];
  let fallback: { client: AdminClient; state: ClusterStateResponse } | undefined;
  for (const [i, client] of clients.entries()) {
    if (probes[i]?.status === undefined) {
      failures.push(`${client.address}: ${probes[i]?.error ?? 'unreachable'}`);
      continue;
    }
    try {
      const state = await freshOrLocal(client);
      if (state.fresh) return { client, state };
      fallback ??= { client, state };
    } catch (error) {
      failures.push(`${client.address}: ${describeError(error)}`);
    }
  }
  if (fallback !== undefined) return fallback;
  throw new CommandFailedError(`no router answered (${failures.join('; ')})`);
}

async function freshOrLocal(client: AdminClient): Promise<ClusterStateResponse> {
  try {
    return await client.clusterState(true);
  } catch (error) {
    const local = await client.clusterState(false);
    return { ...local, fresh: false, fresh_error: `catching up timed out: ${describeError(error)}` };
  }
}

function report(target: ClusterTarget, probes: Probe[], sourceAddress: string, state: ClusterStateResponse, queue: QueueStatusResponse): StatusReport {
  const answered = probes.flatMap((p) => (p.status === undefined ? [] : [p.status]));
  const maxCommit = Math.max(0, ...answered.map((s) => s.commit));
  const term = Math.max(0, ...answered.map((s) => s.term));
  const leaderStatus = answered.find((s) => s.role === 'leader' && s.term === term);
  const leader = leaderStatus?.id ?? answered.find((s) => s.term === term && s.leader !== 0)?.leader ?? 0;
  const lastSeen = new Map(state.routers.map((r) => [r.router, r.last_seen_ms]));
  const members = probes.map((p) => member(target, p, maxCommit, lastSeen));
  const source = members.find((m) => m.address === sourceAddress);
  const configSource = leaderStatus ?? answered[0];
  return {
    taken_at_ms: Date.now(),
    source: { address: sourceAddress, router: source?.router ?? '' },
    fresh: state.fresh,
    fresh_error: state.fresh_error,
    applied_index: state.applied_index,
    cluster_time_ms: state.cluster_time_ms,
    applied_lag: Math.max(0, maxCommit - state.applied_index),
    raft: {
      leader,
      leader_router: members.find((m) => m.id === leader && leader !== 0)?.router ?? '',
      term,
      voters: configSource?.voters ?? [],
      learners: configSource?.learners ?? [],
      members,
    },
    storages: state.storages.map((s) => storageStatus(state, s)),
    routers: state.routers.map((r) => ({ router: r.router, active: r.active, last_seen_ms: r.last_seen_ms })),
    repositories: {
      total: state.repositories,
      read_only: state.availability.reduce((sum, a) => sum + a.read_only, 0),
      unavailable: state.availability.reduce((sum, a) => sum + a.unavailable, 0),
      with_outdated_replicas: state.repositories_with_outdated_replicas,
    },
    write_intents: { total: state.write_intents, stale_total: state.stale_intents_total, stale_age_ms: state.stale_intent_age_ms, stale: state.stale_intents },
    replication_queue: queue,
  };
}

function member(target: ClusterTarget, probe: Probe, maxCommit: number, lastSeen: Map<string, number>): MemberStatus {
  const s = probe.status;
  const router = s?.router ?? target.names.get(probe.address) ?? '';
  return {
    address: probe.address,
    router,
    reachable: s !== undefined,
    error: probe.error ?? '',
    id: s?.id ?? 0,
    role: s?.role ?? 'unreachable',
    term: s?.term ?? 0,
    leader: s?.leader ?? 0,
    commit: s?.commit ?? 0,
    applied: s?.applied ?? 0,
    last_index: s?.last_index ?? 0,
    lag: s === undefined ? 0 : Math.max(0, maxCommit - s.applied),
    last_contact_ms: lastSeen.get(router) ?? 0,
    transactions_in_flight: s?.transactions_in_flight ?? 0,
  };
}

function storageStatus(state: ClusterStateResponse, s: ClusterStateResponse['storages'][number]): StorageStatus {
  const views = state.routers.flatMap((r) =>
    r.views.filter((v) => v.virtual_storage === s.virtual_storage && v.storage === s.storage).map((v) => ({ router: r.router, healthy: v.healthy, since_ms: v.since_ms, active: r.active })),
  );
  // The verdict changed when the deciding router's view changed: the k-th agreeing active view, oldest first.
  const agreeing = views.filter((v) => v.active && v.healthy === s.healthy).map((v) => v.since_ms).sort((a, b) => a - b);
  const needed = s.healthy ? Math.floor(s.active_routers / 2) + 1 : Math.max(1, s.active_routers - Math.floor(s.active_routers / 2));
  return {
    virtual_storage: s.virtual_storage,
    storage: s.storage,
    healthy: s.healthy,
    healthy_votes: s.healthy_votes,
    active_routers: s.active_routers,
    since_ms: agreeing[Math.min(needed, agreeing.length) - 1] ?? 0,
    locally_reachable: s.locally_reachable,
    views: views.map(({ router, healthy, since_ms }) => ({ router, healthy, since_ms })),
  };
}

// ---- the human form ----------------------------------------------------------------

export function renderStatus(r: StatusReport): string {
  return [header(r), raftSection(r), storageSection(r), repositorySection(r), writeSection(r), queueSection(r)].join('\n\n') + '\n';
}

function header(r: StatusReport): string {
  const who = `${r.source.router || 'router'} (${r.source.address})`;
  if (r.fresh) return `Cluster status from ${who}: fresh (caught up with the Raft group), applied index ${r.applied_index}`;
  return [
    `Cluster status from ${who}: NOT FRESH. It could not catch up with the Raft group (follower cut off, or no quorum):`,
    `  ${r.fresh_error}`,
    `Showing what ${who} knows: applied index ${r.applied_index}, ${r.applied_lag} entries behind the highest commit index seen; the newest cluster time it applied is ${ago(r.cluster_time_ms, r.taken_at_ms).replace(' ago', ' old')}.`,
  ].join('\n');
}

function raftSection(r: StatusReport): string {
  const leader = r.raft.leader === 0 ? 'no leader known' : `leader ${r.raft.leader}${r.raft.leader_router === '' ? '' : ` (${r.raft.leader_router})`}`;
  const rows = r.raft.members.map((m) =>
    m.reachable
      ? [String(m.id), m.router, m.address, m.role, String(m.term), String(m.commit), String(m.applied), String(m.lag), String(m.transactions_in_flight), ago(m.last_contact_ms, r.cluster_time_ms)]
      : ['?', m.router || '?', m.address, 'UNREACHABLE', '', '', '', '', '', m.error],
  );
  const config = `voters ${r.raft.voters.join(', ') || '-'}; learners ${r.raft.learners.join(', ') || '-'}`;
  return `Raft group: ${leader}, term ${r.raft.term}; ${config}\n${table(['ID', 'ROUTER', 'ADDRESS', 'ROLE', 'TERM', 'COMMIT', 'APPLIED', 'LAG', 'TX', 'LAST CONTACT'], rows)}`;
}

function storageSection(r: StatusReport): string {
  const routers = [...new Set(r.storages.flatMap((s) => s.views.map((v) => v.router)))].sort();
  const rows = r.storages.map((s) => [
    s.virtual_storage,
    s.storage,
    s.healthy ? 'healthy' : 'UNHEALTHY',
    `${s.healthy_votes}/${s.active_routers}`,
    ago(s.since_ms, r.cluster_time_ms),
    ...routers.map((router) => {
      const view = s.views.find((v) => v.router === router);
      return view === undefined ? '-' : view.healthy ? 'healthy' : 'unhealthy';
    }),
  ]);
  const body = rows.length === 0 ? '  (no storage reported yet)' : table(['VIRTUAL STORAGE', 'STORAGE', 'VERDICT', 'VOTES', 'SINCE', ...routers], rows);
  return `Storage nodes (verdict by quorum of active routers; each router's own view):\n${body}`;
}

function repositorySection(r: StatusReport): string {
  const x = r.repositories;
  return `Repositories: ${x.total} total, ${x.read_only} read-only, ${x.unavailable} unavailable, ${x.with_outdated_replicas} with outdated replicas`;
}

function writeSection(r: StatusReport): string {
  const w = r.write_intents;
  const inFlight = r.raft.members.reduce((n, m) => n + m.transactions_in_flight, 0);
  const head = `Writes in flight: ${w.total} write intents, ${inFlight} reference transactions (TX per router above); ${w.stale_total} intents older than ${Math.round(w.stale_age_ms / 1000)} s`;
  if (w.stale.length === 0) return head;
  const rows = w.stale.map((i) => [`${i.virtual_storage}/${i.relative_path}`, i.router + (i.router_active ? '' : ' (inactive)'), i.storage, String(i.generation), `${Math.round(i.age_ms / 1000)} s`]);
  return `${head} (the Raft leader's reconciler settles them):\n${table(['REPOSITORY', 'ROUTER', 'STORAGE', 'GENERATION', 'AGE'], rows)}`;
}

function queueSection(r: StatusReport): string {
  const q = r.replication_queue;
  if (!q.database_up) return `Replication queue: PostgreSQL is DOWN (${q.database_error})`;
  const active = q.depth.filter((d) => d.state !== 'completed');
  const rows = active.map((d) => [d.virtual_storage, d.target_storage, d.state, String(d.count)]);
  const depth = rows.length === 0 ? '  (empty)' : table(['VIRTUAL STORAGE', 'TARGET', 'STATE', 'JOBS'], rows);
  const dead = q.dead.length === 0 ? 'none' : q.dead.map((d) => `${d.virtual_storage}/${d.target_storage}: ${d.count}`).join(', ');
  return `Replication queue (PostgreSQL up):\n${depth}\n  dead jobs: ${dead}`;
}

// The admin API's view of the cluster: replicated state, storages and their
// reachability from this router, the replication queue.
import type { ClusterStateResponse, ConfiguredStorage, DialNodesResponse, DialResult, ListStoragesResponse, QueueStatusResponse } from '../admin/index.js';
import { ReplicationQueue } from '../db/index.js';
import { GrpcHealthClient } from '../health/index.js';
import { type AdminServiceDeps, configuredNodes, requireVirtualStorage } from './admin-deps.js';
import { messageOf } from './admin-handlers.js';

export function clusterStateOf(deps: AdminServiceDeps, freshError: string): ClusterStateResponse {
  const view = deps.access.view;
  let outdated = 0;
  for (const _ of view.repositoriesWithOutdatedReplicas()) outdated++;
  return {
    fresh: freshError === '',
    fresh_error: freshError,
    applied_index: deps.appliedIndex(),
    cluster_time_ms: view.clusterTimeMs(),
    routers: view.routers().map((r) => ({
      router: r.router,
      active: r.active,
      last_seen_ms: r.lastSeenMs ?? 0,
      views: r.views.map((v) => ({ virtual_storage: v.virtualStorage, storage: v.storage, healthy: v.healthy, since_ms: v.sinceMs })),
    })),
    storages: view.storageHealth().map((s) => ({
      virtual_storage: s.virtualStorage,
      storage: s.storage,
      healthy: s.healthy,
      healthy_votes: s.healthyVotes,
      active_routers: s.activeRouters,
      locally_reachable: deps.prober.isHealthy({ virtualStorage: s.virtualStorage, storage: s.storage }),
    })),
    repositories: view.repositoryCount(),
    availability: view.availabilityCounts().map((a) => ({ virtual_storage: a.virtualStorage, read_only: a.readOnly, unavailable: a.unavailable })),
    repositories_with_outdated_replicas: outdated,
    ...writeIntentsOf(deps),
  };
}

const MAX_STALE_INTENTS_LISTED = 20;
const DEFAULT_STALE_INTENT_AGE_MS = 30_000;

function writeIntentsOf(deps: AdminServiceDeps): Pick<ClusterStateResponse, 'write_intents' | 'stale_intents' | 'stale_intents_total' | 'stale_intent_age_ms'> {
  const view = deps.access.view;
  const ageMs = deps.staleIntentAgeMs ?? DEFAULT_STALE_INTENT_AGE_MS;
  const active = new Set(view.routers().filter((r) => r.active).map((r) => r.router));
  const stale = view.staleWriteIntents(ageMs).sort((a, b) => b.ageMs - a.ageMs);
  return {
    write_intents: view.staleWriteIntents(0).length,
    stale_intents: stale.slice(0, MAX_STALE_INTENTS_LISTED).map((intent) => {
      const repository = view.repository(intent.repositoryId);
      return {
        repository_id: intent.repositoryId,
        virtual_storage: repository?.virtualStorage ?? '',
        relative_path: repository?.relativePath ?? '',
        router: intent.router,
        storage: intent.storage,
        generation: intent.generation,
        age_ms: intent.ageMs,
        router_active: active.has(intent.router),
      };
    }),
    stale_intents_total: stale.length,
    stale_intent_age_ms: ageMs,
  };
}
export async function queueStatus(queue: ReplicationQueue | undefined): Promise<QueueStatusResponse> {
  if (queue === undefined) return { database_up: false, database_error: 'this router has no database configured', depth: [], dead: [] };
  try {
    const [depth, dead] = await Promise.all([queue.depth(), queue.deadCounts()]);
    return {
      database_up: true,
      database_error: '',
      depth: depth.map((d) => ({ virtual_storage: d.virtualStorage, target_storage: d.targetStorage, state: d.state, count: d.count })),
      dead: dead.map((d) => ({ virtual_storage: d.virtualStorage, target_storage: d.targetStorage, count: d.count })),
    };
  } catch (error) {
    return { database_up: false, database_error: messageOf(error), depth: [], dead: [] };
  }
}
export function listStorages(deps: AdminServiceDeps, virtualStorage: string): ListStoragesResponse {
  const nodes = configuredNodes(deps);
  if (virtualStorage !== '') requireVirtualStorage(deps, virtualStorage);
  const probes = new Map(deps.prober.view().nodes.map((n) => [`${n.virtualStorage}/${n.storage}`, n]));
  const storages: ConfiguredStorage[] = nodes
    .all()
    .filter((n) => virtualStorage === '' || n.virtualStorage === virtualStorage)
    .map((n) => {
      const probe = probes.get(`${n.virtualStorage}/${n.storage}`);
      const last = probe?.lastProbe ?? null;
      return {
        virtual_storage: n.virtualStorage,
        storage: n.storage,
        address: n.address,
        default_replication_factor: nodes.defaultReplicationFactor(n.virtualStorage),
        locally_healthy: probe?.healthy ?? false,
        last_probe_ok: last?.ok ?? false,
        last_probe_error: last === null ? 'not probed yet' : last.ok ? '' : `${last.reason ?? 'error'}: ${last.detail ?? ''}`,
        last_probe_latency_ms: last?.latencyMs ?? 0,
        healthy: deps.access.view.isHealthy(n.virtualStorage, n.storage),
      };
    });
  return { storages };
}
export async function dialNodes(deps: AdminServiceDeps, timeoutMs: number): Promise<DialNodesResponse> {
  const nodes = configuredNodes(deps).all();
  const client = new GrpcHealthClient({ maxReconnectBackoffMs: timeoutMs });
  try {
    const results = await Promise.all(nodes.map(async (n): Promise<DialResult> => {
      const startedMs = performance.now();
      const outcome = await client.check({ ...n, token: n.token ?? '' }, { timeoutMs, signal: AbortSignal.timeout(timeoutMs) });
      const latencyMs = performance.now() - startedMs;
      const error = outcome.ok ? '' : `${outcome.reason}: ${outcome.detail}`;
      return { virtual_storage: n.virtualStorage, storage: n.storage, address: n.address, ok: outcome.ok, latency_ms: latencyMs, error };
    }));
    return { router: deps.access.routerName, nodes: results };
  } finally {
    client.close();
  }
}

import { healthKey, type ClusterState, type RouterRecord } from './cluster-state.js';

/** Whether the router refreshed within the activity window, both measured in cluster time. */
export function isActive(state: ClusterState, router: RouterRecord): boolean {
  return router.lastSeenMs !== undefined && state.clusterTimeMs - router.lastSeenMs <= state.settings.activityWindowMs;
}

/** Health by quorum (DESIGN §5) at the state's cluster time. */
export interface ConsensusHealth {
  readonly activeRouters: number;
  /** Per healthKey: how many active routers see the storage healthy. */
  readonly healthyVotes: ReadonlyMap<number, number>;
  isHealthy(virtualStorage: number, storage: number): boolean;
}

const memo = new WeakMap<ClusterState, { version: number; timeMs: number; health: ConsensusHealth }>();

/**
 * A storage is healthy when a strict majority of the ACTIVE routers see it
 * healthy; with no active router, nothing is healthy. A deterministic function
 * of the state, memoized until a health input or cluster time changes.
 */
export function consensusHealth(state: ClusterState): ConsensusHealth {
  const cached = memo.get(state);
  if (cached?.version === state.healthVersion && cached.timeMs === state.clusterTimeMs) return cached.health;
  const health = computeHealth(state);
  memo.set(state, { version: state.healthVersion, timeMs: state.clusterTimeMs, health });
  return health;
}

function computeHealth(state: ClusterState): ConsensusHealth {
  const active = [...state.routers.values()].filter((router) => isActive(state, router));
  const healthyVotes = new Map<number, number>();
  for (const router of active) {
    for (const [key, view] of router.views) if (view.healthy) healthyVotes.set(key, (healthyVotes.get(key) ?? 0) + 1);
  }
  const activeRouters = active.length;
  return {
    activeRouters,
    healthyVotes,
    isHealthy: (virtualStorage, storage) => (healthyVotes.get(healthKey(virtualStorage, storage)) ?? 0) * 2 > activeRouters,
  };
}

import { healthKey, type ClusterState } from './cluster-state.js';
import type { ForgetRouterResult, LivenessResult, OkResult } from './command-results.js';
import type { ForgetRouterCommand, HealthUpdateCommand, LivenessRefreshCommand, SetSettingsCommand } from './commands.js';

/** Merges the router's reports into its view; a changed report restarts its `since`. Also a liveness refresh. */
export function applyHealthUpdate(state: ClusterState, command: HealthUpdateCommand): OkResult {
  const router = state.router(command.router);
  for (const report of command.reports) {
    const key = healthKey(state.virtualStorages.intern(report.virtualStorage), state.storages.intern(report.storage));
    if (router.views.get(key)?.healthy !== report.healthy) router.views.set(key, { healthy: report.healthy, sinceMs: state.clusterTimeMs });
  }
  refresh(state, command.router);
  return { status: 'ok' };
}

export function applyLivenessRefresh(state: ClusterState, command: LivenessRefreshCommand): LivenessResult {
  refresh(state, command.router);
  return { status: 'ok', clusterTimeMs: state.clusterTimeMs };
}

export function applyForgetRouter(state: ClusterState, command: ForgetRouterCommand): ForgetRouterResult {
  const forgotten = state.routers.delete(command.target);
  state.healthVersion++;
  return { status: 'ok', forgotten };
}

export function applySetSettings(state: ClusterState, command: SetSettingsCommand): OkResult {
  state.settings = { activityWindowMs: command.activityWindowMs };
  state.healthVersion++;
  return { status: 'ok' };
}

// The router is seen at the cluster time this entry applies at, whatever its own stamp said.
function refresh(state: ClusterState, router: string): void {
  state.router(router).lastSeenMs = state.clusterTimeMs;
  state.healthVersion++;
}

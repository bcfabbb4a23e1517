import type { ClusterState, RouterRecord } from './cluster-state.js';

/**
 * Cluster time: the only clock apply() and the health queries use. Each
 * command carries its proposer's wall-clock stamp; cluster time is derived
 * from stamps at apply, identically on every replica, and never goes back.
 *
 * Why not simply max(previous, stamp): one router whose clock runs an hour
 * ahead would drag cluster time an hour forward, so every other router would
 * look inactive at once; and when that router stopped, time would freeze for
 * an hour and a dead router would look active all along. Two defences:
 *
 * 1. A majority, not the fastest. Cluster time is the corrected stamp that a
 *    majority of known routers have reached (the (⌊n/2⌋+1)-th largest), so a
 *    minority of erratic or dead routers can neither push nor hold it.
 * 2. Offsets, not absolute clocks. When a router first speaks, its clock's
 *    offset from cluster time is recorded and its stamps count minus that
 *    offset: a constant skew cancels out and only the router's own elapsed
 *    time matters, so a skewed router and a dead one together (two faults of
 *    three routers) still cannot stall the clock. A clock that steps later is
 *    measured again: behind cluster time by more than the activity window, or
 *    ahead of the majority by more than CLOCK_STEP_AHEAD_MS. (Ahead uses a
 *    wide margin because a router that is merely fresher than a slow majority
 *    looks "ahead" too; re-measuring it would stop the clock.)
 *
 * A router's activity is then judged from the cluster time at which its
 * refresh APPLIED (RouterRecord.lastSeenMs), never from its own stamp.
 * Cluster time lags true time by about one refresh interval, the same for all.
 */
export function advanceClusterTime(state: ClusterState, router: string, stampMs: number): void {
  const joining = !state.routers.has(router);
  const record = state.router(router);
  record.latestStampMs = stampMs;
  if (joining) {
    record.clockOffsetMs = state.clusterTimeMs > 0 ? stampMs - state.clusterTimeMs : 0;
  } else {
    remeasureSteppedClock(state, record);
  }
  state.clusterTimeMs = Math.max(state.clusterTimeMs, majorityStamp(state));
}

/** How far a router's corrected clock may run ahead of the majority before it counts as a clock step. */
export function clockStepAheadMs(activityWindowMs: number): number {
  return Math.max(6 * activityWindowMs, 60_000);
}

function remeasureSteppedClock(state: ClusterState, record: RouterRecord): void {
  const majority = majorityStamp(state);
  if (corrected(record) > majority + clockStepAheadMs(state.settings.activityWindowMs)) {
    record.clockOffsetMs = record.latestStampMs - majority;
  } else if (corrected(record) < state.clusterTimeMs - state.settings.activityWindowMs) {
    record.clockOffsetMs = record.latestStampMs - state.clusterTimeMs;
  }
}

function majorityStamp(state: ClusterState): number {
  const stamps = [...state.routers.values()].map(corrected).sort((a, b) => b - a);
  return stamps[Math.floor(stamps.length / 2)] ?? 0;
}

function corrected(router: RouterRecord): number {
  return router.latestStampMs - router.clockOffsetMs;
}

import type { ClusterState } from './cluster-state.js';

/**
 * Cluster time: the only clock apply() and the health queries use.
 *
 * Each command carries its proposer's wall-clock stamp. Taking the max of all
 * stamps would let one router whose clock runs an hour ahead drag cluster time
 * an hour forward: every other router would look inactive at once, and, when
 * the fast router stops, time would freeze and a dead router would look
 * active for an hour. So cluster time follows the stamp that a MAJORITY of
 * known routers have reached: the (⌊n/2⌋+1)-th largest of each router's latest
 * stamp, kept monotonic with max(previous, ·). A minority of skewed clocks,
 * ahead or behind, cannot move it; a minority of dead routers cannot hold it.
 *
 * Activity is then judged from the cluster time at which a router's refresh
 * APPLIED (RouterRecord.lastSeenMs), never from the router's own stamp.
 */
export function advanceClusterTime(state: ClusterState, router: string, stampMs: number): void {
  state.router(router).latestStampMs = stampMs;
  const stamps = [...state.routers.values()].map((r) => r.latestStampMs).sort((a, b) => b - a);
  const majorityStamp = stamps[Math.floor(stamps.length / 2)] ?? 0;
  state.clusterTimeMs = Math.max(state.clusterTimeMs, majorityStamp);
}

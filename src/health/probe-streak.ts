// Hysteresis on probe results: a node's local state flips only after N
// consecutive failures (healthy → unhealthy) or N consecutive successes
// (unhealthy → healthy), so one lost packet or one lucky answer changes nothing.
//
// At startup every node is unhealthy until N successes. A router that has just
// started has seen nothing yet, and vouching for a node it cannot reach would
// let it route writes there; with health decided by a quorum of routers
// (DESIGN §5), the others' views carry the cluster through the N intervals a
// restarting router needs.

export interface ProbeStreak {
  readonly healthy: boolean;
  /** Consecutive successes, capped at the threshold. */
  readonly successes: number;
  /** Consecutive failures, capped at the threshold. */
  readonly failures: number;
}

export const STARTUP_STREAK: ProbeStreak = { healthy: false, successes: 0, failures: 0 };

export function nextStreak(streak: ProbeStreak, ok: boolean, threshold: number): ProbeStreak {
  if (ok) {
    const successes = Math.min(streak.successes + 1, threshold);
    return { healthy: streak.healthy || successes >= threshold, successes, failures: 0 };
  }
  const failures = Math.min(streak.failures + 1, threshold);
  return { healthy: streak.healthy && failures < threshold, successes: 0, failures };
}

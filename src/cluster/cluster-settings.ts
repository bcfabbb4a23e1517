/**
 * Settings every replica must agree on, because apply() depends on them (an
 * election checks health, which depends on the activity window). So they are
 * part of the replicated state, changed only by a command.
 */
export interface ClusterSettings {
  /** A router is active when its last refresh applied at most this long ago in cluster time (upstream uses 10 s). */
  readonly activityWindowMs: number;
}

export const DEFAULT_SETTINGS: ClusterSettings = { activityWindowMs: 10_000 };

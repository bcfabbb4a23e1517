// What one health check found. Only SERVING is a success: NOT_SERVING is how
// a storage node says its disk is full or read-only (DESIGN §12).

export type ProbeFailureReason =
  /** The node answered, but not SERVING. */
  | 'not-serving'
  /** No answer within the probe timeout (a paused or overloaded node). */
  | 'timeout'
  /** No connection (a dead node, a refused port). */
  | 'unavailable'
  /** Any other gRPC or local error. */
  | 'error';

export type ProbeOutcome = { readonly ok: true } | { readonly ok: false; readonly reason: ProbeFailureReason; readonly detail: string };

export const SERVING: ProbeOutcome = { ok: true };

export function probeFailure(reason: ProbeFailureReason, detail: string): ProbeOutcome {
  return { ok: false, reason, detail };
}

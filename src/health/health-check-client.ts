// The one call the prober makes. The gRPC implementation is in
// grpc-health-client.ts; unit tests script their own.
import type { ProbeOutcome } from './probe-outcome.js';
import type { ProbeTarget } from './storage-ref.js';

export interface CheckOptions {
  /** The call must give up by then (a gRPC deadline). */
  readonly timeoutMs: number;
  /** Aborted when the prober stops waiting: timeout or stop. */
  readonly signal: AbortSignal;
}

export interface HealthCheckClient {
  /** Resolves with the outcome; never rejects. */
  check(target: ProbeTarget, options: CheckOptions): Promise<ProbeOutcome>;
  /** Releases connections; the prober calls it when it stops. */
  close(): void;
}

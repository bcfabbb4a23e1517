// [routing]: how fresh routing state must be, and the load-shedding bounds.
import { z } from 'zod';
import { BOUNDS, DEFAULTS } from './defaults.js';
import { count, duration } from './fields.js';

const d = DEFAULTS.routing;
const inFlight = count(BOUNDS.routing.maxInFlight.min, BOUNDS.routing.maxInFlight.max);

export const routingSchema = z.strictObject({
  // true: every routing decision waits for a ReadIndex taken when the call arrived (DESIGN §7).
  fresh_reads: z.boolean().default(d.freshReads),
  // true: a read that cannot confirm fresh state (no quorum) within stale_read_after is served from
  // this router's own state, marked "praefect-read-consistency: stale" (DESIGN §12: reads continue).
  // false: it fails with UNAVAILABLE.
  stale_reads_without_quorum: z.boolean().default(d.staleReadsWithoutQuorum),
  stale_read_after: duration({ minMs: BOUNDS.routing.staleReadAfterMs.min, maxMs: BOUNDS.routing.staleReadAfterMs.max }).default(d.staleReadAfterMs),
  // Calls in flight through this router; beyond, RESOURCE_EXHAUSTED.
  max_in_flight: inFlight.default(d.maxInFlight),
  max_in_flight_per_repository: inFlight.default(d.maxInFlightPerRepository),
});

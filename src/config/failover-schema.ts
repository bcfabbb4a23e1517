// [failover]: upstream's keys (enabled, election_strategy, monitor_interval,
// the error thresholds) plus the probe's timeout and flip count.
import { z } from 'zod';
import { BOUNDS, DEFAULTS } from './defaults.js';
import { count, duration } from './fields.js';

const b = BOUNDS.failover;

export const failoverSchema = z.strictObject({
  enabled: z.boolean().default(DEFAULTS.failover.enabled),
  // Only per-repository elections exist here; the key is kept so upstream files load.
  election_strategy: z.enum(['per_repository']).default(DEFAULTS.failover.electionStrategy),
  monitor_interval: duration({ minMs: b.monitorIntervalMs.min, maxMs: b.monitorIntervalMs.max }).default(
    DEFAULTS.failover.monitorIntervalMs,
  ),
  // Absent: min(monitor_interval, 1s), resolved with the rest of the section.
  probe_timeout: duration({ minMs: b.probeTimeoutMs.min, maxMs: b.probeTimeoutMs.max }).optional(),
  consecutive_probes: count(b.consecutiveProbes.min, b.consecutiveProbes.max).default(DEFAULTS.failover.consecutiveProbes),
  // All three 0 (or absent) turns error tracking off, as upstream; set one, set all.
  read_error_threshold_count: count(0, b.errorThresholdCount.max).default(0),
  write_error_threshold_count: count(0, b.errorThresholdCount.max).default(0),
  error_threshold_window: duration({ minMs: 1, maxMs: b.errorThresholdWindowMs.max, zeroMeansOff: true }).default(0),
});

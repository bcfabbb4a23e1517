// [reconciliation], upstream's keys: "0" turns the automatic reconciler off.
import { z } from 'zod';
import { BOUNDS, DEFAULTS } from './defaults.js';
import { buckets, duration } from './fields.js';

const b = BOUNDS.reconciliation;

export const reconciliationSchema = z.strictObject({
  scheduling_interval: duration({
    minMs: b.schedulingIntervalMs.min,
    maxMs: b.schedulingIntervalMs.max,
    zeroMeansOff: true,
  }).default(DEFAULTS.reconciliation.schedulingIntervalMs),
  histogram_buckets: buckets.default([...DEFAULTS.reconciliation.histogramBuckets]),
});

// gitaly_praefect_node_latency, upstream's histogram of health-check latency
// per storage, fed from the prober's onProbe hook.
import { Histogram, type Registry } from 'prom-client';
import type { ProbeSample } from './prober-options.js';

export const NODE_LATENCY_METRIC = 'gitaly_praefect_node_latency';

/** Registers the histogram (or reuses one already in the registry) and returns an onProbe hook. */
export function nodeLatencyObserver(registry: Registry, bucketsSec: readonly number[]): (sample: ProbeSample) => void {
  const existing = registry.getSingleMetric(NODE_LATENCY_METRIC);
  const histogram =
    existing instanceof Histogram
      ? (existing as Histogram<'gitaly_storage'>)
      : new Histogram({
          name: NODE_LATENCY_METRIC,
          help: 'The latency in Gitaly returning health check information to Praefect',
          labelNames: ['gitaly_storage'],
          buckets: [...bucketsSec],
          registers: [registry],
        });
  return (sample) => histogram.observe({ gitaly_storage: sample.storage }, sample.latencyMs / 1_000);
}

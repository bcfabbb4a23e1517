// The router's Prometheus metrics, under upstream Praefect's names where the
// meaning is the same (DESIGN §13). Gauges over the cluster state are
// computed at scrape time from the local view.
import * as grpc from '@grpc/grpc-js';
import * as client from 'prom-client';
import type { AuthObserver } from '../auth/index.js';
import type { ClusterView } from '../cluster/index.js';
import type { HealthProber } from '../health/index.js';
import type { CallRecord } from './observed-router.js';

const CODE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(grpc.status)
    .filter(([, v]) => typeof v === 'number')
    .map(([name, value]) => [value as number, pascal(name)]),
);

function pascal(name: string): string {
  if (name === 'CANCELLED') return 'Canceled';
  if (name === 'OK') return 'OK';
  return name.toLowerCase().replace(/(^|_)([a-z])/g, (_m, _s: string, c: string) => c.toUpperCase());
}

export interface RouterMetrics {
  readonly registry: client.Registry;
  observeCall(record: CallRecord): void;
  observeAuth: AuthObserver;
  electionChanged(virtualStorage: string): void;
  /** A read served from this router's own state because no quorum confirmed it in time. */
  staleRead(): void;
}

export function createRouterMetrics(registry: client.Registry, view: ClusterView, prober: HealthProber, latencyBucketsSec: readonly number[]): RouterMetrics {
  const handled = new client.Counter({
    name: 'grpc_server_handled_total',
    help: 'Total number of RPCs completed on the server, regardless of success or failure.',
    labelNames: ['grpc_service', 'grpc_method', 'grpc_code'],
    registers: [registry],
  });
  const latency = new client.Histogram({
    name: 'grpc_server_handling_seconds',
    help: 'Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.',
    labelNames: ['grpc_service', 'grpc_method'],
    buckets: [...latencyBucketsSec],
    registers: [registry],
  });
  const reads = new client.Counter({
    name: 'gitaly_praefect_read_distribution',
    help: 'Counts read operations directed to the storages',
    labelNames: ['virtual_storage', 'storage'],
    registers: [registry],
  });
  const elections = new client.Counter({
    name: 'gitaly_praefect_primary_elections_total',
    help: 'Primary changes made by elections of this router',
    labelNames: ['virtual_storage'],
    registers: [registry],
  });
  const auth = new client.Counter({
    name: 'gitaly_authentications_total',
    help: 'Counts of of Gitaly request authentication attempts',
    labelNames: ['enforced', 'status'],
    registers: [registry],
  });
  availabilityGauges(registry, view);
  const staleReads = new client.Counter({
    name: 'gitaly_praefect_stale_reads_total',
    help: "Reads served from this router's own cluster state because no quorum confirmed it in time (marked stale to the client)",
    registers: [registry],
  });
  new client.Gauge({
    name: 'gitaly_praefect_node_health',
    help: "This router's view of each storage node: 1 healthy, 0 not",
    labelNames: ['virtual_storage', 'storage'],
    registers: [registry],
    collect() {
      this.reset();
      for (const node of prober.view().nodes) this.set({ virtual_storage: node.virtualStorage, storage: node.storage }, node.healthy ? 1 : 0);
    },
  });
  return {
    registry,
    observeCall(record) {
      const labels = { grpc_service: record.method.service, grpc_method: record.method.method };
      handled.inc({ ...labels, grpc_code: CODE_NAMES[record.code] ?? String(record.code) });
      latency.observe(labels, record.durationMs / 1_000);
      if (record.method.operation === 'accessor' && record.storage !== undefined && record.repository !== undefined) {
        reads.inc({ virtual_storage: record.repository.slice(0, record.repository.indexOf('/')), storage: record.storage });
      }
    },
    observeAuth: (attempt) => auth.inc({ enforced: String(attempt.enforced), status: attempt.status }),
    electionChanged: (virtualStorage) => elections.inc({ virtual_storage: virtualStorage }),
    staleRead: () => staleReads.inc(),
  };
}

function availabilityGauges(registry: client.Registry, view: ClusterView): void {
  // Both gauges come from one pass over the repositories, reused within a scrape.
  let cached: { atMs: number; counts: ReturnType<ClusterView['availabilityCounts']> } | undefined;
  const counts = (): ReturnType<ClusterView['availabilityCounts']> => {
    const nowMs = Date.now();
    if (cached === undefined || nowMs - cached.atMs > 500) cached = { atMs: nowMs, counts: view.availabilityCounts() };
    return cached.counts;
  };
  const gauge = (name: string, help: string, pick: (c: { readOnly: number; unavailable: number }) => number): void => {
    new client.Gauge({
      name,
      help,
      labelNames: ['virtual_storage'],
      registers: [registry],
      collect() {
        this.reset();
        for (const count of counts()) this.set({ virtual_storage: count.virtualStorage }, pick(count));
      },
    });
  };
  gauge('gitaly_praefect_read_only_repositories', 'Number of repositories in read-only mode within a virtual storage', (c) => c.readOnly);
  gauge('gitaly_praefect_unavailable_repositories', 'Number of repositories that have no healthy, up to date replicas', (c) => c.unavailable);
}

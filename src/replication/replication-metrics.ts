// Optional prom-client metrics of the worker, with upstream's names where the
// meaning is the same (DESIGN §13).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface JobLabels {
  readonly virtualStorage: string;
  readonly sourceStorage: string | undefined;
  readonly targetStorage: string;
  readonly type: string;
}

const SECONDS_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];

export class ReplicationMetrics {
  private readonly inFlight: Gauge<'virtual_storage' | 'target_storage' | 'type'>;
  private readonly outcomes: Counter<'virtual_storage' | 'target_storage' | 'type' | 'outcome'>;
  private readonly latency: Histogram<'source_storage' | 'target_storage' | 'type'>;
  private readonly delay: Histogram<'source_storage' | 'target_storage' | 'type'>;

  constructor(registry: Registry) {
    this.inFlight = new Gauge({
      name: 'gitaly_praefect_replication_jobs',
      help: 'Replication jobs in flight on this router',
      labelNames: ['virtual_storage', 'target_storage', 'type'],
      registers: [registry],
    });
    this.outcomes = new Counter({
      name: 'gitaly_praefect_replication_job_outcomes_total',
      help: 'Replication job attempts by outcome (completed, failed, dead)',
      labelNames: ['virtual_storage', 'target_storage', 'type', 'outcome'],
      registers: [registry],
    });
    this.latency = new Histogram({
      name: 'gitaly_praefect_replication_latency',
      help: 'Time a replication job took to run, in seconds',
      labelNames: ['source_storage', 'target_storage', 'type'],
      buckets: SECONDS_BUCKETS,
      registers: [registry],
    });
    this.delay = new Histogram({
      name: 'gitaly_praefect_replication_delay',
      help: 'Time from a replication job being queued to a worker starting it, in seconds',
      labelNames: ['source_storage', 'target_storage', 'type'],
      buckets: SECONDS_BUCKETS,
      registers: [registry],
    });
  }

  started(job: JobLabels, queuedForMs: number): void {
    this.inFlight.inc(this.targetLabels(job));
    this.delay.observe(this.pairLabels(job), Math.max(0, queuedForMs) / 1000);
  }

  finished(job: JobLabels, outcome: 'completed' | 'failed' | 'dead' | 'abandoned', tookMs: number): void {
    this.inFlight.dec(this.targetLabels(job));
    this.outcomes.inc({ ...this.targetLabels(job), outcome });
    this.latency.observe(this.pairLabels(job), tookMs / 1000);
  }

  private targetLabels(job: JobLabels): { virtual_storage: string; target_storage: string; type: string } {
    return { virtual_storage: job.virtualStorage, target_storage: job.targetStorage, type: job.type };
  }

  private pairLabels(job: JobLabels): { source_storage: string; target_storage: string; type: string } {
    return { source_storage: job.sourceStorage ?? '', target_storage: job.targetStorage, type: job.type };
  }
}

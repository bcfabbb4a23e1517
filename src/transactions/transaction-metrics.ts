// Optional prom-client metrics of the voting engine, with upstream's names.
import { Counter, Histogram, type Registry } from 'prom-client';

export type TransactionAction = 'registered' | 'started' | 'committed' | 'failed' | 'canceled' | 'stopped' | 'invalid';

const DELAY_BUCKETS_SEC = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const COUNT_BUCKETS = [0, 1, 2, 3, 4, 5, 8, 16, 32];

export class TransactionMetrics {
  private readonly actions: Counter<'action'>;
  private readonly delay: Histogram<'action'>;
  private readonly voters: Histogram;
  private readonly subtransactions: Histogram;
  private readonly replications: Counter<'reason'>;

  constructor(registry: Registry) {
    this.actions = new Counter({
      name: 'gitaly_praefect_transactions_total',
      help: 'Transaction actions: registered counts voters, the others votes (stopped also counts StopTransaction calls)',
      labelNames: ['action'],
      registers: [registry],
    });
    this.delay = new Histogram({
      name: 'gitaly_praefect_transactions_delay_seconds',
      help: 'Time from a vote arriving to its answer, in seconds',
      labelNames: ['action'],
      buckets: DELAY_BUCKETS_SEC,
      registers: [registry],
    });
    this.voters = new Histogram({
      name: 'gitaly_praefect_voters_per_transaction_total',
      help: 'Voters a transaction was registered with',
      buckets: COUNT_BUCKETS,
      registers: [registry],
    });
    this.subtransactions = new Histogram({
      name: 'gitaly_praefect_subtransactions_per_transaction_total',
      help: 'Subtransactions a transaction went through, observed when it ends',
      buckets: [0, 1, 2, 4, 8, 16, 32],
      registers: [registry],
    });
    this.replications = new Counter({
      name: 'gitaly_praefect_tx_replications_total',
      help: 'Replicas of transactional writes sent a replication job instead of a generation bump, by why',
      labelNames: ['reason'],
      registers: [registry],
    });
  }

  replicationScheduled(reason: string): void {
    this.replications.inc({ reason });
  }

  count(action: TransactionAction, by = 1): void {
    this.actions.inc({ action }, by);
  }

  registered(voters: number): void {
    this.count('registered', voters);
    this.voters.observe(voters);
  }

  answered(delayMs: number): void {
    this.delay.observe({ action: 'vote' }, Math.max(0, delayMs) / 1000);
  }

  ended(subtransactions: number): void {
    this.subtransactions.observe(subtransactions);
  }
}

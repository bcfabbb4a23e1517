// The replication worker: one per router (DESIGN §9). It claims jobs only for
// targets that are healthy by consensus AND reachable from this router, runs
// at most `parallelStorageProcessingWorkers` jobs per target at once,
// heartbeats its claims, and sweeps jobs whose worker died back into the
// queue. Retries and their backoff live in the queue (retry_at): a failed job
// is not claimable again before its backoff is over.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ClusterAccess } from '../cluster/index.js';
import type { ReplicationConfig } from '../config/index.js';
import type { AckOutcome, ClaimedJob, ReplicationQueue, ReplicationQueueOptions } from '../db/index.js';
import { ReplicationError, ReplicationOptionsError } from './errors.js';
import { NodeClientPool } from './node-client-pool.js';
import type { NodeDirectory } from '../config/index.js';
import { runReplicationJob, type JobDone, type JobRunnerDeps } from './replication-job-runner.js';
import { ReplicationMetrics, type JobLabels } from './replication-metrics.js';
import { TargetSlots } from './target-slots.js';
import { pause } from './with-timeout.js';

export interface ReplicationWorkerOptions {
  readonly access: ClusterAccess;
  readonly queue: ReplicationQueue;
  readonly directory: NodeDirectory;
  /** batchSize and parallelStorageProcessingWorkers; attempts and backoff belong to the queue (replicationQueueOptions). */
  readonly config: Pick<ReplicationConfig, 'batchSize' | 'parallelStorageProcessingWorkers'>;
  /** This router's own prober view. Default: every node is reachable. */
  readonly reachable?: (virtualStorage: string, storage: string) => boolean;
  /** Shared with other users; when absent the worker makes one and closes it on stop(). */
  readonly clients?: NodeClientPool;
  /** Wait between claim rounds when there was nothing to claim. Default 1000 ms. */
  readonly pollIntervalMs?: number;
  /** How often claims in flight are heartbeated. Default 5000 ms. */
  readonly heartbeatIntervalMs?: number;
  /** A claim without a heartbeat for this long is swept back to the queue. Default 30000 ms. */
  readonly staleAfterMs?: number;
  /** How often this worker sweeps stale claims (anyone's). Default 10000 ms. */
  readonly sweepIntervalMs?: number;
  /** Bound on one ReplicateRepository / RemoveRepository. Default 300000 ms. */
  readonly nodeCallTimeoutMs?: number;
  /** Bound on a ReadIndex round and on a proposal. Default 10000 ms. */
  readonly clusterTimeoutMs?: number;
  /** How long stop() lets running jobs finish before cancelling them. Default 10000 ms. */
  readonly stopGraceMs?: number;
  readonly logger?: Logger;
  /** Registers the replication metrics here when given. */
  readonly registry?: Registry;
}

/** How one job attempt ended, as reported to `onJobFinished` listeners and tests. */
export interface JobReport {
  readonly job: ClaimedJob;
  readonly outcome: AckOutcome | 'abandoned';
  readonly done?: JobDone;
  readonly error?: unknown;
}

interface RunningJob {
  readonly job: ClaimedJob;
  readonly controller: AbortController;
  /** Resolves once the attempt is acknowledged (or abandoned) and its slot released. */
  settled: Promise<void>;
  /** Set when the claim was lost or the worker stops: the job is not acknowledged. */
  abandoned: boolean;
}

/** The queue options that carry ReplicationConfig's attempt limit and backoff. */
export function replicationQueueOptions(config: ReplicationConfig): ReplicationQueueOptions {
  return { maxAttempts: config.maxAttempts, backoffBaseMs: config.retryBackoffBaseMs, backoffMaxMs: config.retryBackoffMaxMs };
}

export class ReplicationWorker {
  private readonly deps: JobRunnerDeps;
  private readonly slots: TargetSlots;
  private readonly running = new Map<number, RunningJob>();
  private readonly ownsClients: boolean;
  private readonly metrics: ReplicationMetrics | undefined;
  private readonly listeners: Array<(report: JobReport) => void> = [];
  private loopStop: AbortController | undefined;
  private loopDone: Promise<void> | undefined;
  private wake: AbortController = new AbortController();
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly options: ReplicationWorkerOptions) {
    const { batchSize, parallelStorageProcessingWorkers } = options.config;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new ReplicationOptionsError(`batchSize must be a positive integer, got ${batchSize}`);
    if (!Number.isInteger(parallelStorageProcessingWorkers) || parallelStorageProcessingWorkers < 1) {
      throw new ReplicationOptionsError(`parallelStorageProcessingWorkers must be a positive integer, got ${parallelStorageProcessingWorkers}`);
    }
    this.ownsClients = options.clients === undefined;
    this.deps = {
      access: options.access,
      directory: options.directory,
      clients: options.clients ?? new NodeClientPool(),
      reachable: options.reachable ?? (() => true),
      nodeCallTimeoutMs: options.nodeCallTimeoutMs ?? 300_000,
      clusterTimeoutMs: options.clusterTimeoutMs ?? 10_000,
    };
    this.slots = new TargetSlots(parallelStorageProcessingWorkers);
    this.metrics = options.registry === undefined ? undefined : new ReplicationMetrics(options.registry);
  }

  /** Called after every job attempt, acknowledged or not. */
  onJobFinished(listener: (report: JobReport) => void): void {
    this.listeners.push(listener);
  }

  /** Jobs running now. */
  get inFlight(): number {
    return this.running.size;
  }

  start(): void {
    if (this.loopStop !== undefined) return;
    const stop = new AbortController();
    this.loopStop = stop;
    this.timers = [
      setInterval(() => void this.heartbeat(), this.options.heartbeatIntervalMs ?? 5000),
      setInterval(() => void this.sweep(), this.options.sweepIntervalMs ?? 10_000),
    ];
    this.loopDone = this.loop(stop.signal);
  }

  /** Stops claiming, lets running jobs finish within the grace, cancels the rest (left for the sweep), closes owned clients. */
  async stop(): Promise<void> {
    this.loopStop?.abort();
    this.wake.abort();
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await this.loopDone;
    this.loopStop = undefined;
    this.loopDone = undefined;
    const graceOver = new AbortController();
    const grace = pause(this.options.stopGraceMs ?? 10_000, graceOver.signal);
    await Promise.race([this.drain(), grace]);
    graceOver.abort();
    for (const run of this.running.values()) {
      run.abandoned = true;
      run.controller.abort();
    }
    await this.drain();
    if (this.ownsClients) this.deps.clients.close();
  }

  /** One claim round, then waits for the jobs it started: for tests and one-shot use. Returns how many it claimed. */
  async runOnce(): Promise<number> {
    const started = await this.claimRound();
    await Promise.all(started.map((run) => run.settled));
    return started.length;
  }

  /** Resolves once no job is running. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()].map((run) => run.settled));
  }

  /** Sends one heartbeat for the claims in flight; jobs whose claim is gone are cancelled and left unacknowledged. */
  async heartbeat(): Promise<void> {
    const runs = [...this.running.values()];
    if (runs.length === 0) return;
    try {
      const held = new Set(await this.options.queue.heartbeat(runs.map((run) => run.job)));
      for (const run of runs) {
        if (held.has(run.job.id) || !this.running.has(run.job.id)) continue;
        run.abandoned = true;
        run.controller.abort();
        this.options.logger?.warn({ jobId: run.job.id }, 'replication job claim lost; cancelling it');
      }
    } catch (error) {
      this.options.logger?.warn({ err: error }, 'replication heartbeat failed');
    }
  }

  /** Returns jobs of dead workers to the queue. */
  async sweep(): Promise<void> {
    try {
      const swept = await this.options.queue.sweepStale(this.options.staleAfterMs ?? 30_000);
      if (swept.requeued + swept.superseded + swept.dead > 0) this.options.logger?.info(swept, 'swept stale replication jobs');
    } catch (error) {
      this.options.logger?.warn({ err: error }, 'replication sweep failed');
    }
  }

  private async loop(signal: AbortSignal): Promise<void> {
    const intervalMs = this.options.pollIntervalMs ?? 1000;
    while (!signal.aborted) {
      this.wake = new AbortController();
      const claimed = (await this.claimRound()).length;
      if (signal.aborted) break;
      // More may be waiting when this round filled up what it asked for; otherwise wait, or until a slot frees.
      if (claimed === 0 || !this.hasFreeSlot()) await pause(intervalMs, this.wake.signal);
    }
  }

  private hasFreeSlot(): boolean {
    return this.targets().some((t) => this.slots.free(t.virtualStorage, t.storage) > 0);
  }

  /** Every configured target that is healthy by consensus and reachable from here. */
  private targets(): Array<{ virtualStorage: string; storage: string }> {
    const { directory, access } = this.options;
    const reachable = this.deps.reachable;
    return directory
      .virtualStorages()
      .flatMap((virtualStorage) => directory.storages(virtualStorage).map((storage) => ({ virtualStorage, storage })))
      .filter((t) => access.view.isHealthy(t.virtualStorage, t.storage) && reachable(t.virtualStorage, t.storage));
  }

  private async claimRound(): Promise<RunningJob[]> {
    const started: RunningJob[] = [];
    for (const target of this.targets()) {
      const free = this.slots.free(target.virtualStorage, target.storage);
      if (free === 0) continue;
      let jobs: ClaimedJob[];
      try {
        jobs = await this.options.queue.dequeue({
          virtualStorage: target.virtualStorage,
          targets: [target.storage],
          limit: Math.min(free, this.options.config.batchSize),
        });
      } catch (error) {
        this.options.logger?.warn({ err: error, ...target }, 'replication dequeue failed');
        continue;
      }
      for (const job of jobs) started.push(this.launch(job));
    }
    return started;
  }

  private launch(job: ClaimedJob): RunningJob {
    this.slots.acquire(job.virtualStorage, job.targetStorage);
    const controller = new AbortController();
    const run: RunningJob = { job, controller, abandoned: false, settled: Promise.resolve() };
    const settled = this.execute(run).finally(() => {
      this.slots.release(job.virtualStorage, job.targetStorage);
      this.running.delete(job.id);
      this.wake.abort();
    });
    run.settled = settled;
    this.running.set(job.id, run);
    return run;
  }

  private async execute(run: RunningJob): Promise<void> {
    const { job } = run;
    const labels: JobLabels = { virtualStorage: job.virtualStorage, sourceStorage: job.sourceStorage, targetStorage: job.targetStorage, type: job.changeType };
    const startedAt = Date.now();
    this.metrics?.started(labels, startedAt - job.createdAt.getTime());
    let report: JobReport;
    try {
      const done = await runReplicationJob(this.deps, job, run.controller.signal);
      report = run.abandoned ? { job, outcome: 'abandoned', done } : { job, outcome: 'completed', done };
    } catch (error) {
      const outcome = error instanceof ReplicationError && error.permanent ? 'dead' : 'failed';
      report = { job, outcome: run.abandoned ? 'abandoned' : outcome, error };
    }
    if (report.outcome !== 'abandoned') await this.acknowledge(job, report.outcome, report.error);
    this.metrics?.finished(labels, report.outcome, Date.now() - startedAt);
    this.log(report);
    for (const listener of this.listeners) listener(report);
  }

  // A failed acknowledgement leaves the job in progress without heartbeats: the sweep returns it.
  private async acknowledge(job: ClaimedJob, outcome: AckOutcome, error: unknown): Promise<void> {
    try {
      await this.options.queue.acknowledge([job], outcome, error === undefined ? undefined : describe(error));
    } catch (ackError) {
      this.options.logger?.warn({ err: ackError, jobId: job.id }, 'acknowledging a replication job failed');
    }
  }

  private log(report: JobReport): void {
    const { job } = report;
    const fields = {
      jobId: job.id,
      repositoryId: job.repositoryId,
      virtualStorage: job.virtualStorage,
      sourceStorage: job.sourceStorage,
      targetStorage: job.targetStorage,
      changeType: job.changeType,
      attempt: job.attemptsMade,
      outcome: report.outcome,
      ...report.done,
    };
    if (report.error === undefined) this.options.logger?.info(fields, 'replication job finished');
    else this.options.logger?.warn({ ...fields, err: report.error }, 'replication job failed');
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return 'code' in error && typeof error.code === 'string' ? `${error.code}: ${error.message}` : error.message;
  return String(error);
}

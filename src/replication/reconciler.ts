// The reconciler (DESIGN §9, §10) runs on the Raft leader only, so it needs
// no database lock. Each pass:
//   1. settles write intents left by routers that are no longer active: the
//      Raft command makes one replica the only latest, and the others are
//      scheduled for repair from it at once;
//   2. schedules an `update` job for every healthy outdated or missing replica,
//      from a healthy replica on the latest generation (the primary first).
// Enqueue folds equal waiting jobs, so a pass may repeat itself harmlessly.
// Raft first, PostgreSQL second (DESIGN §6): when an enqueue fails, the
// generations still say what is outdated, and the next pass tries again.
import type { Logger } from 'pino';
import type { ClusterAccess, ClusterView, StaleWriteIntent } from '../cluster/index.js';
import type { ReconciliationConfig } from '../config/index.js';
import type { ReplicationQueue } from '../db/index.js';
import { ReplicationOptionsError } from './errors.js';
import { pause, withTimeout } from './with-timeout.js';

/**
 * An intent this many stale ages old is settled whatever its router says: no
 * call lasts that long, and settling an intent whose write still lands is
 * harmless while its storage is healthy (the bump still applies on top).
 */
const ABANDONED_INTENT_FACTOR = 10;

export interface ReconcilerOptions {
  readonly access: ClusterAccess;
  readonly queue: ReplicationQueue;
  /** schedulingIntervalMs: the time between passes; 0 turns the automatic passes off (runOnce still works). */
  readonly config: Pick<ReconciliationConfig, 'schedulingIntervalMs'>;
  /** Bound on enqueue calls per pass; later repositories are reached by the next passes. Default 1000. */
  readonly maxJobsPerPass?: number;
  /** A write intent this old (cluster time) whose router is inactive is settled. Default 30000 ms. */
  readonly staleIntentAgeMs?: number;
  /** Bound on intents settled per pass. Default 100. */
  readonly maxIntentsPerPass?: number;
  /** Bound on a ReadIndex round and on a proposal. Default 10000 ms. */
  readonly clusterTimeoutMs?: number;
  readonly logger?: Logger;
}

/** What one pass did. */
export interface ReconcilePass {
  /** False when this router was not the leader: the pass did nothing. */
  readonly leader: boolean;
  readonly resolvedIntents: number;
  /** Jobs added to the queue (not folded into a waiting one). */
  readonly enqueued: number;
  /** Enqueue calls that found an equal job waiting. */
  readonly alreadyQueued: number;
  /** Outdated healthy replicas with no healthy latest replica to copy from. */
  readonly withoutSource: number;
  /** True when the per-pass bound stopped the pass early. */
  readonly truncated: boolean;
  readonly errors: number;
}

interface PassCounts {
  resolvedIntents: number;
  enqueued: number;
  alreadyQueued: number;
  withoutSource: number;
  truncated: boolean;
  errors: number;
  budget: number;
}

export class Reconciler {
  private readonly maxJobsPerPass: number;
  private readonly clusterTimeoutMs: number;
  /** The repository id the last truncated pass stopped after: the next pass starts past it. */
  private cursor = 0;
  private loopStop: AbortController | undefined;
  private loopDone: Promise<void> | undefined;
  private passing: Promise<ReconcilePass> | undefined;

  constructor(private readonly options: ReconcilerOptions) {
    this.maxJobsPerPass = options.maxJobsPerPass ?? 1000;
    this.clusterTimeoutMs = options.clusterTimeoutMs ?? 10_000;
    if (!Number.isInteger(this.maxJobsPerPass) || this.maxJobsPerPass < 1) {
      throw new ReplicationOptionsError(`maxJobsPerPass must be a positive integer, got ${this.maxJobsPerPass}`);
    }
    if (!(options.config.schedulingIntervalMs >= 0)) {
      throw new ReplicationOptionsError(`schedulingIntervalMs must be 0 or more, got ${options.config.schedulingIntervalMs}`);
    }
  }

  /** Runs passes every schedulingIntervalMs (nothing when it is 0). */
  start(): void {
    const intervalMs = this.options.config.schedulingIntervalMs;
    if (intervalMs === 0 || this.loopStop !== undefined) return;
    const stop = new AbortController();
    this.loopStop = stop;
    this.loopDone = (async () => {
      while (!stop.signal.aborted) {
        await pause(intervalMs, stop.signal);
        if (stop.signal.aborted) break;
        const pass = await this.runOnce().catch((error: unknown) => {
          this.options.logger?.warn({ err: error }, 'reconciliation pass failed');
          return undefined;
        });
        if (pass !== undefined && pass.leader && pass.enqueued + pass.resolvedIntents > 0) {
          this.options.logger?.info(pass, 'reconciliation scheduled replication');
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.loopStop?.abort();
    await this.loopDone;
    await this.passing?.catch(() => undefined);
    this.loopStop = undefined;
    this.loopDone = undefined;
  }

  /** One pass, now; concurrent callers share the pass in progress. Does nothing unless this router is the Raft leader. */
  runOnce(): Promise<ReconcilePass> {
    this.passing ??= this.pass().finally(() => {
      this.passing = undefined;
    });
    return this.passing;
  }

  private async pass(): Promise<ReconcilePass> {
    const counts: PassCounts = { resolvedIntents: 0, enqueued: 0, alreadyQueued: 0, withoutSource: 0, truncated: false, errors: 0, budget: this.maxJobsPerPass };
    if (!this.options.access.isLeader()) return { leader: false, ...summary(counts) };
    await withTimeout(this.options.access.fresh(), this.clusterTimeoutMs, 'a fresh cluster view');
    const scheduled = new Set<number>();
    for (const intent of this.orphanedIntents()) {
      if (!this.options.access.isLeader()) break;
      if (await this.resolveIntent(intent, counts)) {
        await this.scheduleRepository(intent.repositoryId, counts);
        scheduled.add(intent.repositoryId);
      }
    }
    await this.scheduleOutdated(scheduled, counts);
    return { leader: true, ...summary(counts) };
  }

  /**
   * Stale intents nobody else will settle, oldest first, bounded: those of
   * routers no longer active, those whose written storage is down (its router
   * left them to us, see write-route.ts), and any left far too long.
   */
  private orphanedIntents(): StaleWriteIntent[] {
    const view = this.options.access.view;
    const staleAgeMs = this.options.staleIntentAgeMs ?? 30_000;
    const active = new Set(view.routers().filter((r) => r.active).map((r) => r.router));
    const storageDown = (intent: StaleWriteIntent): boolean => {
      const repository = view.repository(intent.repositoryId);
      return repository !== undefined && !view.isHealthy(repository.virtualStorage, intent.storage);
    };
    return view
      .staleWriteIntents(staleAgeMs)
      .filter((intent) => !active.has(intent.router) || storageDown(intent) || intent.ageMs >= ABANDONED_INTENT_FACTOR * staleAgeMs)
      .sort((a, b) => b.ageMs - a.ageMs)
      .slice(0, this.options.maxIntentsPerPass ?? 100);
  }

  private async resolveIntent(intent: StaleWriteIntent, counts: PassCounts): Promise<boolean> {
    try {
      const result = await withTimeout(
        this.options.access.propose({ type: 'resolve-write-intent', repositoryId: intent.repositoryId, intentId: intent.intentId }),
        this.clusterTimeoutMs,
        'the resolve-write-intent proposal',
      );
      if (result.status !== 'ok') return false;
      counts.resolvedIntents += 1;
      this.options.logger?.info(
        { repositoryId: intent.repositoryId, intentId: intent.intentId, router: intent.router, authoritative: result.authoritative, generation: result.generation },
        'settled a stale write intent',
      );
      return true;
    } catch (error) {
      counts.errors += 1;
      this.options.logger?.warn({ err: error, repositoryId: intent.repositoryId, intentId: intent.intentId }, 'resolving a write intent failed');
      return false;
    }
  }

  /** Every repository with outdated replicas, starting past the cursor, until the budget runs out. */
  private async scheduleOutdated(skip: ReadonlySet<number>, counts: PassCounts): Promise<void> {
    const ids = [...this.options.access.view.repositoriesWithOutdatedReplicas()].sort((a, b) => a - b);
    const start = ids.findIndex((id) => id > this.cursor);
    const ordered = start <= 0 ? ids : [...ids.slice(start), ...ids.slice(0, start)];
    for (const id of ordered) {
      if (skip.has(id)) continue;
      if (counts.budget <= 0 || !this.options.access.isLeader()) {
        counts.truncated = true;
        return;
      }
      await this.scheduleRepository(id, counts);
      this.cursor = id;
    }
    this.cursor = 0;
  }

  /** Enqueues an update for each healthy outdated replica of one repository. */
  private async scheduleRepository(repositoryId: number, counts: PassCounts): Promise<void> {
    const view = this.options.access.view;
    const repository = view.repository(repositoryId);
    if (repository === undefined) return;
    for (const replica of view.outdatedReplicas(repositoryId)) {
      if (!replica.healthy) continue;
      const source = sourceFor(view, repositoryId, replica.storage);
      if (source === undefined) {
        counts.withoutSource += 1;
        continue;
      }
      if (counts.budget <= 0) {
        counts.truncated = true;
        return;
      }
      counts.budget -= 1;
      try {
        const { created } = await this.options.queue.enqueue({
          changeType: 'update',
          repositoryId,
          virtualStorage: repository.virtualStorage,
          relativePath: repository.relativePath,
          replicaPath: repository.replicaPath,
          sourceStorage: source,
          targetStorage: replica.storage,
        });
        if (created) counts.enqueued += 1;
        else counts.alreadyQueued += 1;
      } catch (error) {
        counts.errors += 1;
        this.options.logger?.warn({ err: error, repositoryId, target: replica.storage }, 'enqueueing a replication job failed');
      }
    }
  }
}

/** The primary when it is healthy and latest, else another healthy latest replica. */
function sourceFor(view: ClusterView, repositoryId: number, target: string): string | undefined {
  return view.upToDateHealthyReplicas(repositoryId).find((storage) => storage !== target);
}

function summary(counts: PassCounts): Omit<ReconcilePass, 'leader'> {
  const { budget: _budget, ...rest } = counts;
  return rest;
}

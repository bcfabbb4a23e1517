// The per-router health prober (DESIGN §8). Every monitor interval it checks
// every storage node in parallel, each with a timeout and never two checks of
// one node at once; a node's local verdict flips after N consecutive failures
// or successes (see probe-streak.ts), or when its error rate passes the
// thresholds. onChange gets the full view whenever a verdict changes.
import type { ErrorKind } from './error-rate-tracker.js';
import { ProberStateError, UnknownStorageError } from './errors.js';
import type { HealthView } from './health-view.js';
import { NodeState } from './node-state.js';
import { probeFailure, type ProbeOutcome } from './probe-outcome.js';
import { checkProberOptions, type HealthProberOptions } from './prober-options.js';
import { realScheduler, type Scheduler, type TimerHandle } from './scheduler.js';
import { storageKey, type StorageRef } from './storage-ref.js';

type Phase = 'new' | 'running' | 'stopped';

export class HealthProber {
  private readonly scheduler: Scheduler;
  private readonly nodes: readonly NodeState[];
  private readonly byKey: ReadonlyMap<string, NodeState>;
  private phase: Phase = 'new';
  private roundTimer: TimerHandle | null = null;
  /** Follow-up probes of suspected nodes (confirmFailureAfterMs), at most one per node. */
  private readonly confirmTimers = new Map<NodeState, TimerHandle>();
  private nextRoundMs = 0;
  private generation = 0;
  private verdictsChanged = false;
  private emitQueued = false;

  constructor(private readonly options: HealthProberOptions) {
    checkProberOptions(options);
    this.scheduler = options.scheduler ?? realScheduler;
    const startMs = this.scheduler.nowMs();
    const thresholds = options.errorThresholds ?? null;
    this.nodes = options.targets.map((target) => new NodeState(target, options.consecutiveProbes, thresholds, startMs));
    this.byKey = new Map(this.nodes.map((node) => [storageKey(node.target), node]));
  }

  /** The first round runs at once; then one every monitorIntervalMs. */
  start(): void {
    if (this.phase !== 'new') throw new ProberStateError(`start() on a ${this.phase} prober`);
    this.phase = 'running';
    this.nextRoundMs = this.scheduler.nowMs();
    this.roundTimer = this.scheduler.setTimer(() => this.runRound(), 0);
  }

  /** Cancels the timers and every probe in flight, and closes the client. Idempotent. */
  stop(): void {
    if (this.phase === 'stopped') return;
    this.phase = 'stopped';
    if (this.roundTimer !== null) this.scheduler.clearTimer(this.roundTimer);
    this.roundTimer = null;
    for (const timer of this.confirmTimers.values()) this.scheduler.clearTimer(timer);
    this.confirmTimers.clear();
    for (const node of this.nodes) this.cancelInFlight(node);
    this.options.client.close();
  }

  view(): HealthView {
    return { nodes: this.nodes.map((node) => node.snapshot()), takenAtMs: this.scheduler.nowMs() };
  }

  /** False for a storage this prober does not know: a router never calls a node it cannot vouch for. */
  isHealthy(ref: StorageRef): boolean {
    return this.byKey.get(storageKey(ref))?.isHealthy ?? false;
  }

  /** The router reports a failed call to a node; may mark it unhealthy (error thresholds). */
  recordError(ref: StorageRef, kind: ErrorKind): void {
    const node = this.byKey.get(storageKey(ref));
    if (node === undefined) throw new UnknownStorageError(ref.virtualStorage, ref.storage);
    if (node.recordError(kind, this.scheduler.nowMs())) this.verdictChanged(node);
    this.suspect(node);
    this.emitIfChanged();
  }

  /** A node counted healthy just failed: probe it again soon rather than at the next round. */
  private suspect(node: NodeState): void {
    const delayMs = this.options.confirmFailureAfterMs;
    if (delayMs === undefined || this.phase !== 'running' || !node.isHealthy || this.confirmTimers.has(node)) return;
    const timer = this.scheduler.setTimer(() => {
      this.confirmTimers.delete(node);
      if (this.phase === 'running' && node.inFlight === null) this.startProbe(node, this.scheduler.nowMs());
    }, delayMs);
    this.confirmTimers.set(node, timer);
  }

  private runRound(): void {
    if (this.phase !== 'running') return;
    const nowMs = this.scheduler.nowMs();
    this.scheduleNextRound(nowMs);
    for (const node of this.nodes) {
      // A timeout due now may not have fired yet; settle it before deciding.
      if (node.inFlight !== null && nowMs >= node.inFlight.deadlineMs) this.expire(node, node.inFlight.generation);
      if (node.inFlight === null) this.startProbe(node, nowMs);
      if (node.reevaluate(nowMs)) this.verdictChanged(node);
    }
    this.emitIfChanged();
  }

  // Fixed rate: rounds stay on their grid; rounds missed while the process stalled are skipped, not bunched.
  private scheduleNextRound(nowMs: number): void {
    this.nextRoundMs += this.options.monitorIntervalMs;
    if (this.nextRoundMs <= nowMs) this.nextRoundMs = nowMs + this.options.monitorIntervalMs;
    this.roundTimer = this.scheduler.setTimer(() => this.runRound(), this.nextRoundMs - nowMs);
  }

  private startProbe(node: NodeState, nowMs: number): void {
    const generation = ++this.generation;
    const abort = new AbortController();
    const timeoutMs = this.options.probeTimeoutMs;
    const timer = this.scheduler.setTimer(() => this.expire(node, generation), timeoutMs);
    node.inFlight = { generation, startedMs: nowMs, deadlineMs: nowMs + timeoutMs, abort, timer };
    this.options.client.check(node.target, { timeoutMs, signal: abort.signal }).then(
      (outcome) => this.finish(node, generation, outcome),
      (error: unknown) => this.finish(node, generation, probeFailure('error', describe(error))),
    );
  }

  private finish(node: NodeState, generation: number, outcome: ProbeOutcome): void {
    const probe = node.inFlight;
    if (this.phase !== 'running' || probe?.generation !== generation) return; // late: already timed out or stopped
    this.scheduler.clearTimer(probe.timer);
    node.inFlight = null;
    const nowMs = this.scheduler.nowMs();
    this.settle(node, outcome, nowMs - probe.startedMs, nowMs);
  }

  private expire(node: NodeState, generation: number): void {
    const probe = node.inFlight;
    if (this.phase !== 'running' || probe?.generation !== generation) return;
    this.cancelInFlight(node);
    const timeoutMs = this.options.probeTimeoutMs;
    this.settle(node, probeFailure('timeout', `no answer within ${timeoutMs} ms`), timeoutMs, this.scheduler.nowMs());
  }

  private cancelInFlight(node: NodeState): void {
    if (node.inFlight === null) return;
    this.scheduler.clearTimer(node.inFlight.timer);
    node.inFlight.abort.abort();
    node.inFlight = null;
  }

  private settle(node: NodeState, outcome: ProbeOutcome, latencyMs: number, nowMs: number): void {
    if (node.recordProbe(outcome, latencyMs, nowMs)) this.verdictChanged(node);
    if (!outcome.ok) this.suspect(node);
    this.callSafely('onProbe', () => this.options.onProbe?.({ ...refOf(node), outcome, latencyMs }));
    this.emitIfChanged();
  }

  private verdictChanged(node: NodeState): void {
    this.verdictsChanged = true;
    const health = node.snapshot();
    const fields = { virtual_storage: health.virtualStorage, storage: health.storage, address: health.address };
    if (health.healthy) this.options.logger?.info(fields, 'node marked healthy');
    else this.options.logger?.warn({ ...fields, error_rate_exceeded: health.errorRateExceeded, last_probe: health.lastProbe }, 'node marked unhealthy');
  }

  // Coalesced into one microtask, so results that arrive together (one round's
  // answers, a burst of errors) make one event, and so one Raft proposal.
  private emitIfChanged(): void {
    if (!this.verdictsChanged || this.emitQueued) return;
    this.emitQueued = true;
    queueMicrotask(() => {
      this.emitQueued = false;
      if (!this.verdictsChanged || this.phase === 'stopped') return;
      this.verdictsChanged = false;
      const view = this.view();
      this.callSafely('onChange', () => this.options.onChange?.(view));
    });
  }

  // A throwing listener must not stop the prober.
  private callSafely(hook: string, call: () => void): void {
    try {
      call();
    } catch (error) {
      this.options.logger?.error({ err: error, hook }, 'health prober listener failed');
    }
  }
}

function refOf(node: NodeState): StorageRef {
  return { virtualStorage: node.target.virtualStorage, storage: node.target.storage };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

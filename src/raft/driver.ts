import { Packr } from 'msgpackr';
import {
  bootstrapEntries,
  decodeConfChange,
  NONE,
  RaftError,
  RawNode,
  SeededPrng,
  type ConfChange,
  type ConfState,
  type Entry,
  type Message,
  type NodeId,
  type RaftOptions,
  type RaftStatus,
  type Ready,
  type SoftState,
} from './core/index.js';
import { DriverStoppedError, ProposalTimeoutError, ProposalTooLargeError, TooManyPendingError } from './driver-errors.js';
import type { LogStore } from './log-store.js';
import type { AppliedCommand, StateMachine } from './state-machine.js';

/** What the driver needs of the network; GrpcTransport is one. */
export interface RaftTransportPort {
  send(messages: readonly Message[]): void;
  onMessage(handler: (m: Message) => void): void;
  onUnreachable(handler: (peer: NodeId) => void): void;
}

export interface RaftDriverOptions {
  readonly id: NodeId;
  readonly store: LogStore;
  readonly stateMachine: StateMachine;
  readonly transport: RaftTransportPort;
  /** Founding voters; used only when the store is empty. Omit for a node that joins as a learner. */
  readonly bootstrapVoters?: readonly NodeId[];
  readonly tickMs?: number;
  /** Seed for election jitter; defaults to one derived from the id and the time. */
  readonly seed?: number;
  readonly raft?: Partial<Omit<RaftOptions, 'id' | 'storage' | 'prng' | 'applied'>>;
  readonly proposalTimeoutMs?: number;
  readonly maxPendingProposals?: number;
  readonly maxProposalBytes?: number;
  readonly maxPendingReads?: number;
  /** A read round unanswered for this long is asked again. */
  readonly readRetryMs?: number;
  /** Take a snapshot and compact after this many applied entries. */
  readonly snapshotEveryEntries?: number;
  /** Entries kept behind a snapshot, so slightly-behind followers need no snapshot. */
  readonly compactionKeepEntries?: number;
  readonly onSoftState?: (state: SoftState, term: number) => void;
  readonly onError?: (error: unknown) => void;
}

/** Running counters for metrics; read on scrape, never reset. */
export interface RaftDriverStats {
  proposals: number;
  proposalsFailed: number;
  readRounds: number;
  readyCycles: number;
  leaderChanges: number;
  snapshotsTaken: number;
}

interface PendingProposal {
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: unknown) => void;
  readonly timer: NodeJS.Timeout;
}

interface ReadRound {
  readonly context: Uint8Array;
  readonly waiters: PendingRead[];
  readonly startedMs: number;
}

interface PendingRead {
  readonly resolve: (appliedIndex: number) => void;
  readonly reject: (error: unknown) => void;
}

// Entry data is an envelope [origin node, sequence, payload] so the node that
// proposed can resolve its caller when the entry applies, wherever it was appended.
const envelopeCodec = new Packr({ useRecords: false });

const DEFAULTS = {
  tickMs: 100,
  proposalTimeoutMs: 10_000,
  maxPendingProposals: 16_384,
  maxProposalBytes: 1024 * 1024,
  maxPendingReads: 16_384,
  readRetryMs: 1_000,
  snapshotEveryEntries: 10_000,
  compactionKeepEntries: 1_000,
};

/**
 * Runs a RawNode for real: ticks from a monotonic clock, one synced store
 * batch per Ready, then send, then apply, then advance. Proposals and reads
 * that arrive while a Ready is being processed are batched into the next one.
 */
export class RaftDriver {
  readonly id: NodeId;
  private readonly options: RaftDriverOptions & typeof DEFAULTS;
  private rawNode!: RawNode;
  private readonly inbox: Message[] = [];
  /** Calls into the RawNode from outside the loop wait here: the node is only touched between Readies. */
  private readonly idleActions: (() => void)[] = [];
  private queuedProposals: { payload: Uint8Array; seq: number }[] = [];
  private readonly pending = new Map<number, PendingProposal>();
  private readonly pendingConfChanges: { change: ConfChange; resolve: (c: ConfState) => void; reject: (e: unknown) => void }[] = [];
  private nextSeq = 1;
  private readRound: ReadRound | undefined;
  private readWaiters: PendingRead[] = [];
  private readonly readsAwaitingApply: { index: number; waiters: PendingRead[] }[] = [];
  private readSeq = 0;
  private loopRunning = false;
  private loopAgain = false;
  private stopped = false;
  private tickTimer: NodeJS.Timeout | undefined;
  private ticksDone = 0;
  private startedAtMs = 0;
  private lastSnapshotIndex = 0;
  private loopDone: Promise<void> = Promise.resolve();
  private fatal: unknown;
  private readonly counters: RaftDriverStats = {
    proposals: 0,
    proposalsFailed: 0,
    readRounds: 0,
    readyCycles: 0,
    leaderChanges: 0,
    snapshotsTaken: 0,
  };
  private role: SoftState['role'] = 'follower';
  private knownLeader: NodeId = NONE;
  private persistedTermVote: { term: number; vote: NodeId } | undefined;

  constructor(options: RaftDriverOptions) {
    this.id = options.id;
    this.options = { ...DEFAULTS, ...options } as RaftDriverOptions & typeof DEFAULTS;
  }

  /** Bootstraps an empty store if asked, restores the state machine if it is behind the snapshot, and starts ticking. */
  async start(): Promise<void> {
    const { store, stateMachine } = this.options;
    if (store.lastIndex() === 0 && store.snapshot().meta.index === 0 && this.options.bootstrapVoters?.length) {
      const voters = this.options.bootstrapVoters;
      await store.save({ hardState: { term: 1, vote: NONE, commit: voters.length }, entries: bootstrapEntries(voters), snapshot: undefined });
    }
    const snapshot = store.snapshot();
    // A crash between persisting a received snapshot and restoring the state machine leaves it behind.
    if (stateMachine.appliedIndex() < snapshot.meta.index) await stateMachine.restore(snapshot);
    this.lastSnapshotIndex = snapshot.meta.index;
    const seed = this.options.seed ?? (this.id * 2654435761 + Math.floor(performance.now() * 1000)) >>> 0;
    this.rawNode = new RawNode({
      ...this.options.raft,
      id: this.id,
      storage: store,
      prng: new SeededPrng(seed),
      applied: stateMachine.appliedIndex(),
    });
    this.options.transport.onMessage((m) => this.enqueueMessage(m));
    this.options.transport.onUnreachable((peer) => this.whenIdle(() => this.rawNode.reportUnreachable(peer)));
    this.startedAtMs = performance.now();
    this.tickTimer = setInterval(() => this.onTimer(), Math.max(1, Math.floor(this.options.tickMs / 2)));
    this.kick();
  }

  private onTimer(): void {
    // Ticks follow the monotonic clock, not the timer's count: a late timer catches up.
    const due = Math.floor((performance.now() - this.startedAtMs) / this.options.tickMs);
    if (due > this.ticksDone) this.kick();
    const round = this.readRound;
    if (round && performance.now() - round.startedMs > this.options.readRetryMs) {
      // The request or its answer was lost: ask again with a fresh context.
      this.readRound = undefined;
      this.readWaiters.unshift(...round.waiters);
      this.kick();
    }
  }

  private enqueueMessage(m: Message): void {
    if (this.stopped) return;
    this.inbox.push(m);
    this.kick();
  }

  private whenIdle(action: () => void): void {
    this.idleActions.push(action);
    this.kick();
  }

  // ---- public API -------------------------------------------------------

  /** Proposes a command; resolves with the state machine's result once it applies. */
  propose(payload: Uint8Array): Promise<unknown> {
    const refused = this.refusal();
    if (refused) return Promise.reject(refused);
    if (payload.byteLength > this.options.maxProposalBytes) {
      return Promise.reject(new ProposalTooLargeError(payload.byteLength, this.options.maxProposalBytes));
    }
    if (this.pending.size >= this.options.maxPendingProposals) {
      return Promise.reject(new TooManyPendingError('proposals', this.options.maxPendingProposals));
    }
    const seq = this.nextSeq++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        reject(new ProposalTimeoutError(this.options.proposalTimeoutMs));
      }, this.options.proposalTimeoutMs);
      this.pending.set(seq, { resolve, reject, timer });
      this.queuedProposals.push({ payload, seq });
      this.kick();
    });
  }

  /**
   * Resolves once this node has applied everything committed before the
   * call: reads of the local state machine after that are linearizable.
   * Calls arriving while a round is in flight share the next round.
   */
  linearizableRead(): Promise<number> {
    const refused = this.refusal();
    if (refused) return Promise.reject(refused);
    if (this.readWaiters.length >= this.options.maxPendingReads) {
      return Promise.reject(new TooManyPendingError('reads', this.options.maxPendingReads));
    }
    return new Promise((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        reject(new ProposalTimeoutError(this.options.proposalTimeoutMs, 'read'));
      }, this.options.proposalTimeoutMs);
      const once = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      this.readWaiters.push({ resolve: (index) => once(() => resolve(index)), reject: (e) => once(() => reject(e)) });
      this.kick();
    });
  }

  proposeConfChange(change: ConfChange): Promise<ConfState> {
    const refused = this.refusal();
    if (refused) return Promise.reject(refused);
    return new Promise((resolve, reject) => {
      this.whenIdle(() => {
        try {
          this.rawNode.proposeConfChange(change);
          this.pendingConfChanges.push({ change, resolve, reject });
        } catch (error) {
          reject(error);
        }
      });
    });
  }

  transferLeadership(to: NodeId): void {
    const refused = this.refusal();
    if (refused) throw refused;
    this.whenIdle(() => this.rawNode.transferLeadership(to));
  }

  campaign(): void {
    this.whenIdle(() => this.rawNode.campaign());
  }

  status(): RaftStatus {
    return this.rawNode.status();
  }

  stats(): Readonly<RaftDriverStats> {
    return this.counters;
  }

  /** Stops ticking, rejects everything pending, waits for the current Ready, closes the store. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.tickTimer) clearInterval(this.tickTimer);
    await this.loopDone;
    this.failAll(new DriverStoppedError());
    await this.options.store.close();
  }

  /** Why new work is refused (promise-returning calls reject with it rather than throw). */
  private refusal(): unknown {
    if (this.fatal !== undefined) return this.fatal;
    return this.stopped ? new DriverStoppedError() : undefined;
  }

  // ---- the loop -----------------------------------------------------------

  private kick(): void {
    if (this.stopped) return;
    if (this.loopRunning) {
      this.loopAgain = true;
      return;
    }
    this.loopRunning = true;
    this.loopDone = new Promise((resolve) => setImmediate(() => void this.loop().finally(resolve)));
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.loopAgain = false;
        this.feedInputs();
        while (!this.stopped && this.rawNode.hasReady()) await this.handleReady(this.rawNode.ready());
      } while (this.loopAgain && !this.stopped);
    } catch (error) {
      this.die(error);
    } finally {
      this.loopRunning = false;
    }
  }

  private feedInputs(): void {
    const due = Math.floor((performance.now() - this.startedAtMs) / this.options.tickMs);
    // Bound catch-up after a long stall (e.g. SIGSTOP) so we do not fire many elections at once.
    const ticks = Math.min(due - this.ticksDone, 3);
    for (let i = 0; i < ticks; i++) this.rawNode.tick();
    this.ticksDone = due;
    for (const m of this.inbox.splice(0)) this.stepNetworkMessage(m);
    for (const action of this.idleActions.splice(0)) this.runAction(action);
    this.feedProposals();
    this.feedReads();
  }

  private stepNetworkMessage(m: Message): void {
    try {
      this.rawNode.step(m);
    } catch (error) {
      // A forwarded proposal or read this node cannot take is dropped; the asker times out or retries.
      if (!(error instanceof RaftError) || error.code === 'RAFT_INVARIANT') throw error;
    }
  }

  private runAction(action: () => void): void {
    try {
      action();
    } catch (error) {
      if (!(error instanceof RaftError) || error.code === 'RAFT_INVARIANT') throw error;
    }
  }

  private feedProposals(): void {
    if (this.queuedProposals.length === 0) return;
    const batch = this.queuedProposals;
    this.queuedProposals = [];
    try {
      this.rawNode.propose(batch.map(({ payload, seq }) => envelopeCodec.pack([this.id, seq, payload])));
    } catch (error) {
      for (const { seq } of batch) this.settle(seq, undefined, error);
    }
  }

  private feedReads(): void {
    if (this.readRound || this.readWaiters.length === 0) return;
    const context = new TextEncoder().encode(`${this.id}:${this.readSeq++}:${this.startedAtMs}`);
    const round: ReadRound = { context, waiters: this.readWaiters, startedMs: performance.now() };
    this.readWaiters = [];
    try {
      this.rawNode.readIndex(context);
      this.readRound = round;
      this.counters.readRounds++;
    } catch (error) {
      for (const waiter of round.waiters) waiter.reject(error);
    }
  }

  private async handleReady(rd: Ready): Promise<void> {
    this.counters.readyCycles++;
    if (rd.softState) this.onSoftState(rd.softState);
    // Raft thesis §10.2.1: a leader may write its log in parallel with
    // replicating it. Safe here because acknowledgements are stepped only
    // after this Ready's write has completed, so the leader never counts
    // itself toward a commit before its own copy is durable. Votes and
    // follower acknowledgements still wait for the disk.
    const sendFirst = this.role === 'leader' && !this.changesTermOrVote(rd);
    if (sendFirst && rd.messages.length > 0) this.options.transport.send(rd.messages);
    if (rd.hardState || rd.entries.length > 0 || rd.snapshot) {
      await this.options.store.save({ hardState: rd.hardState, entries: rd.entries, snapshot: rd.snapshot });
    }
    if (rd.hardState) this.persistedTermVote = { term: rd.hardState.term, vote: rd.hardState.vote };
    if (!sendFirst && rd.messages.length > 0) this.options.transport.send(rd.messages);
    if (rd.snapshot) await this.options.stateMachine.restore(rd.snapshot);
    await this.apply(rd.committedEntries);
    this.onReadStates(rd);
    this.rawNode.advance();
    this.releaseReads();
    await this.maybeSnapshot();
  }

  private changesTermOrVote(rd: Ready): boolean {
    const hs = rd.hardState;
    return hs !== undefined && (hs.term !== this.persistedTermVote?.term || hs.vote !== this.persistedTermVote.vote);
  }

  private onSoftState(state: SoftState): void {
    if (state.leader !== this.knownLeader) this.counters.leaderChanges++;
    this.knownLeader = state.leader;
    this.role = state.role;
    this.options.onSoftState?.(state, this.rawNode.status().term);
    // A read round in flight when leadership moved may never be answered: retry it in the next round.
    if (this.readRound) {
      this.readWaiters.unshift(...this.readRound.waiters);
      this.readRound = undefined;
    }
  }

  private async apply(entries: readonly Entry[]): Promise<void> {
    if (entries.length === 0) return;
    const commands: AppliedCommand[] = [];
    const origins: (number | undefined)[] = [];
    for (const entry of entries) {
      if (entry.type === 'confChange') {
        this.applyConfChange(decodeConfChange(entry.data));
        commands.push({ index: entry.index, term: entry.term, payload: undefined });
        origins.push(undefined);
      } else if (entry.data.length === 0) {
        commands.push({ index: entry.index, term: entry.term, payload: undefined });
        origins.push(undefined);
      } else {
        const [origin, seq, payload] = envelopeCodec.unpack(entry.data) as [number, number, Uint8Array];
        commands.push({ index: entry.index, term: entry.term, payload });
        origins.push(origin === this.id ? seq : undefined);
      }
    }
    const results = await this.options.stateMachine.apply(commands);
    origins.forEach((seq, i) => seq !== undefined && this.settle(seq, results[i], undefined));
  }

  private applyConfChange(change: ConfChange): void {
    const confState = this.rawNode.applyConfChange(change);
    const at = this.pendingConfChanges.findIndex((p) => p.change.type === change.type && p.change.nodeId === change.nodeId);
    if (at >= 0) this.pendingConfChanges.splice(at, 1)[0]!.resolve(confState);
  }

  private settle(seq: number, result: unknown, error: unknown): void {
    const pending = this.pending.get(seq);
    if (!pending) return;
    this.counters.proposals++;
    if (error !== undefined) this.counters.proposalsFailed++;
    this.pending.delete(seq);
    clearTimeout(pending.timer);
    if (error !== undefined) pending.reject(error);
    else pending.resolve(result);
  }

  private onReadStates(rd: Ready): void {
    const round = this.readRound;
    if (!round) return;
    for (const rs of rd.readStates) {
      if (!sameBytes(rs.context, round.context)) continue;
      this.readRound = undefined;
      this.readsAwaitingApply.push({ index: rs.index, waiters: round.waiters });
    }
  }

  private releaseReads(): void {
    const applied = this.options.stateMachine.appliedIndex();
    while (this.readsAwaitingApply.length > 0 && this.readsAwaitingApply[0]!.index <= applied) {
      for (const waiter of this.readsAwaitingApply.shift()!.waiters) waiter.resolve(applied);
    }
    if (this.readWaiters.length > 0 && !this.readRound) this.loopAgain = true;
  }

  private async maybeSnapshot(): Promise<void> {
    const applied = this.options.stateMachine.appliedIndex();
    if (applied - this.lastSnapshotIndex < this.options.snapshotEveryEntries) return;
    const { store, stateMachine } = this.options;
    const image = await stateMachine.snapshot();
    const meta = { index: image.index, term: store.term(image.index), confState: this.rawNode.status().confState };
    const compactIndex = Math.max(store.firstIndex() - 1, image.index - this.options.compactionKeepEntries);
    await store.saveSnapshot({ meta, data: image.data }, compactIndex);
    this.lastSnapshotIndex = image.index;
    this.counters.snapshotsTaken++;
  }

  private die(error: unknown): void {
    this.fatal = error;
    this.stopped = true;
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.failAll(error);
    this.options.onError?.(error);
  }

  private failAll(error: unknown): void {
    for (const seq of [...this.pending.keys()]) this.settle(seq, undefined, error);
    for (const waiter of this.readWaiters.splice(0)) waiter.reject(error);
    for (const waiter of this.readRound?.waiters ?? []) waiter.reject(error);
    this.readRound = undefined;
    for (const batch of this.readsAwaitingApply.splice(0)) for (const waiter of batch.waiters) waiter.reject(error);
    for (const p of this.pendingConfChanges.splice(0)) p.reject(error);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

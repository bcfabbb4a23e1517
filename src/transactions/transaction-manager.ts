// The router's voting engine: registers transactions, takes votes and
// answers each voter once its subtransaction is decided. Deterministic: no
// timers or clocks of its own (VoteTimers is injected), ids from an injected
// generator. Every table is bounded.
import { randomBytes } from 'node:crypto';
import {
  InvalidVoteError,
  TransactionCancelledError,
  TransactionError,
  TransactionLimitError,
  TransactionNotFoundError,
} from './errors.js';
import type { VoterResult } from './subtransaction.js';
import type { Subtransaction } from './subtransaction.js';
import { Transaction, type TransactionSummary } from './transaction.js';
import type { TransactionMetrics } from './transaction-metrics.js';
import { realVoteTimers, type TimerHandle, type VoteTimers } from './vote-timers.js';
import { validatePlan, type VotingPlan } from './voters.js';

export type VoteOutcome = 'commit' | 'abort' | 'stop';
/** The phases of Gitaly's VoteTransactionRequest; recorded, not interpreted, as upstream. */
export type VotePhase = 'unknown' | 'preparing' | 'prepared' | 'committed' | 'synchronized';

export const SHA1_BYTES = 20;

export interface TransactionManagerOptions {
  /** Transactions open at once; past it register() throws too_many_transactions. */
  maxTransactions?: number;
  maxVoters?: number;
  maxSubtransactions?: number;
  /** Ended transactions remembered so late votes get CANCELLED rather than NOT_FOUND. */
  maxEnded?: number;
  /** A vote not decided within this aborts its transaction. */
  voteTimeoutMs?: number;
  timers?: VoteTimers;
  /** Transaction ids: positive safe integers (they travel as JSON numbers in metadata). */
  nextId?: () => number;
  metrics?: TransactionMetrics;
}

export const DEFAULT_TRANSACTION_OPTIONS = {
  maxTransactions: 10_000,
  maxVoters: 32,
  maxSubtransactions: 1024,
  maxEnded: 10_000,
  voteTimeoutMs: 30_000,
};

interface Waiter {
  readonly round: Subtransaction;
  readonly timer: TimerHandle;
  readonly startedMs: number;
  readonly resolve: (outcome: VoteOutcome) => void;
  readonly reject: (error: Error) => void;
}

interface Live {
  readonly transaction: Transaction;
  /** At most one waiting vote per node: a node votes its rounds one after another. */
  readonly waiters: Map<string, Waiter>;
}

export class TransactionManager {
  private readonly live = new Map<number, Live>();
  private readonly ended = new Map<number, TransactionSummary>();
  private readonly options: typeof DEFAULT_TRANSACTION_OPTIONS;
  private readonly timers: VoteTimers;
  private readonly nextId: () => number;
  private readonly metrics: TransactionMetrics | undefined;

  constructor(options: TransactionManagerOptions = {}) {
    this.options = { ...DEFAULT_TRANSACTION_OPTIONS, ...definedOnly(options) };
    this.timers = options.timers ?? realVoteTimers;
    this.nextId = options.nextId ?? randomTransactionId;
    this.metrics = options.metrics;
  }

  get openCount(): number {
    return this.live.size;
  }

  /** Registers a transaction and returns its id. */
  register(plan: VotingPlan): number {
    validatePlan(plan, this.options.maxVoters);
    if (this.live.size >= this.options.maxTransactions) {
      throw new TransactionLimitError('too_many_transactions', `${this.options.maxTransactions} transactions are open already`);
    }
    const id = this.freshId();
    const voters = plan.voters.map((v) => ({ name: v.name, votes: v.votes }));
    this.live.set(id, { transaction: new Transaction(id, voters, plan.threshold, this.options.maxSubtransactions), waiters: new Map() });
    this.metrics?.registered(voters.length);
    return id;
  }

  /**
   * Casts a vote; resolves when the node's subtransaction is decided for it.
   * Rejects with TransactionNotFoundError, TransactionCancelledError,
   * InvalidVoteError or TransactionLimitError.
   */
  vote(id: number, node: string, hash: Uint8Array, _phase: VotePhase = 'unknown'): Promise<VoteOutcome> {
    this.metrics?.count('started');
    const startedMs = this.timers.nowMs();
    try {
      if (hash.length !== SHA1_BYTES) throw new InvalidVoteError('invalid_hash', `a vote is a ${SHA1_BYTES}-byte SHA-1 hash, got ${hash.length} bytes`);
      const live = this.find(id);
      if (live.waiters.has(node)) throw new InvalidVoteError('already_voted', `node "${node}" has a vote waiting in transaction ${id}`);
      const placement = live.transaction.place(node);
      if ('answer' in placement) return this.answerNow(placement.answer, id, startedMs);
      const round = placement.subtransaction;
      round.vote(node, Buffer.from(hash).toString('hex'));
      live.transaction.propagateExclusions();
      const promise = new Promise<VoteOutcome>((resolve, reject) => {
        const timer = this.timers.setTimer(() => this.timeOut(id), this.options.voteTimeoutMs);
        live.waiters.set(node, { round, timer, startedMs, resolve, reject });
      });
      this.settle(id, live);
      return promise;
    } catch (error) {
      this.metrics?.count(error instanceof TransactionCancelledError ? 'canceled' : 'invalid');
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Stops the transaction: waiting and later voters get STOP. Idempotent; an aborted transaction stays aborted. */
  stop(id: number): void {
    const live = this.find(id);
    const { transaction } = live;
    if (transaction.state === 'cancelled') throw new TransactionCancelledError(id);
    // Stopped already, or aborted by a timeout: later votes fail either way.
    if (transaction.state !== 'open') return;
    transaction.stop();
    this.metrics?.count('stopped');
    this.settle(id, live);
  }

  /**
   * Takes a node out of the transaction: it failed outside the vote (its RPC
   * errored) or its vote call ended. Its waiting vote is CANCELLED; rounds
   * that can no longer reach quorum without it are answered at once.
   */
  cancelVoter(id: number, node: string): void {
    const live = this.find(id);
    live.transaction.withdraw(node);
    this.settle(id, live);
  }

  /**
   * Takes a node out of every open transaction it votes in: this router has
   * lost it (its prober marked it down), so its vote is not coming. Voters
   * waiting on a quorum that needed it are answered now rather than at the
   * vote timeout. Returns how many transactions it left.
   */
  withdrawEverywhere(node: string): number {
    let left = 0;
    for (const [id, live] of this.live) {
      if (!live.transaction.hasVoter(node)) continue;
      live.transaction.withdraw(node);
      this.settle(id, live);
      left++;
    }
    return left;
  }

  /**
   * Ends the transaction: undecided voters are cancelled, later votes get
   * CANCELLED. Returns who committed what; calling it again returns the same.
   */
  cancel(id: number): TransactionSummary {
    const done = this.ended.get(id);
    if (done !== undefined) return done;
    const live = this.find(id);
    live.transaction.cancel();
    this.settle(id, live);
    this.live.delete(id);
    const summary = live.transaction.summary();
    this.remember(summary);
    this.metrics?.ended(summary.subtransactions);
    return summary;
  }

  /** Who has committed so far, without ending the transaction. */
  summary(id: number): TransactionSummary {
    return this.ended.get(id) ?? this.find(id).transaction.summary();
  }

  private find(id: number): Live {
    const live = this.live.get(id);
    if (live !== undefined) return live;
    if (this.ended.has(id)) throw new TransactionCancelledError(id);
    throw new TransactionNotFoundError(id);
  }

  /** Answers every waiting voter whose round has been decided for it. */
  private settle(id: number, live: Live): void {
    for (const [node, waiter] of live.waiters) {
      const result = waiter.round.resultOf(node);
      if (result === 'undecided') continue;
      live.waiters.delete(node);
      this.timers.clearTimer(waiter.timer);
      this.metrics?.answered(this.timers.nowMs() - waiter.startedMs);
      this.deliver(result, id, waiter.resolve, waiter.reject);
    }
  }

  private answerNow(result: Exclude<VoterResult, 'undecided' | 'committed'>, id: number, startedMs: number): Promise<VoteOutcome> {
    this.metrics?.answered(this.timers.nowMs() - startedMs);
    return new Promise((resolve, reject) => this.deliver(result, id, resolve, reject));
  }

  private deliver(result: Exclude<VoterResult, 'undecided'>, id: number, resolve: (o: VoteOutcome) => void, reject: (e: Error) => void): void {
    switch (result) {
      case 'committed':
        this.metrics?.count('committed');
        return resolve('commit');
      case 'failed':
        this.metrics?.count('failed');
        return resolve('abort');
      case 'stopped':
        this.metrics?.count('stopped');
        return resolve('stop');
      case 'cancelled':
        this.metrics?.count('canceled');
        return reject(new TransactionCancelledError(id));
    }
  }

  private timeOut(id: number): void {
    const live = this.live.get(id);
    if (live === undefined || live.transaction.state !== 'open') return;
    live.transaction.abort();
    this.settle(id, live);
  }

  private freshId(): number {
    for (let attempt = 0; attempt < 16; attempt++) {
      const id = this.nextId();
      if (!Number.isSafeInteger(id) || id < 1) throw new RangeError(`transaction id generator returned ${id}; ids must be positive safe integers`);
      if (!this.live.has(id) && !this.ended.has(id)) return id;
    }
    throw new TransactionError('too_many_transactions', 'could not find an unused transaction id');
  }

  private remember(summary: TransactionSummary): void {
    this.ended.set(summary.id, summary);
    // Oldest first: Map keeps insertion order.
    while (this.ended.size > this.options.maxEnded) {
      const oldest = this.ended.keys().next().value;
      if (oldest === undefined) break;
      this.ended.delete(oldest);
    }
  }
}

/** A random id in [1, 2^53): exact as a JSON number in every language. */
export function randomTransactionId(): number {
  const bytes = randomBytes(8);
  const high = bytes.readUInt32BE(0) & 0x1f_ffff;
  const id = high * 0x1_0000_0000 + bytes.readUInt32BE(4);
  return id === 0 ? 1 : id;
}

function definedOnly(options: TransactionManagerOptions): Partial<typeof DEFAULT_TRANSACTION_OPTIONS> {
  const picked: Partial<typeof DEFAULT_TRANSACTION_OPTIONS> = {};
  for (const key of Object.keys(DEFAULT_TRANSACTION_OPTIONS) as Array<keyof typeof DEFAULT_TRANSACTION_OPTIONS>) {
    const value = options[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`transaction option ${key} must be a positive integer, got ${value}`);
    picked[key] = value;
  }
  return picked;
}

// Records a run's history as the checkers read it: each event gets the next
// index and the time since the run began (ms, monotonic), so history order is
// real-time order. Bounded: a run that would record more events fails loudly.
import { performance } from 'node:perf_hooks';
import type { Key, Op, OpType, Process } from '../checker/index.js';

export class HistoryLimitError extends Error {
  readonly code = 'JEPSEN_HISTORY_LIMIT';
}

export interface Invocation {
  readonly process: Process;
  readonly f: string;
  readonly key?: Key;
  readonly value: unknown;
  readonly node?: string;
}

export class HistoryRecorder {
  private readonly ops: Op[] = [];
  private readonly startedAt = performance.now();

  constructor(private readonly maxOps = 2_000_000) {}

  /** Milliseconds since the run began, on the monotonic clock. */
  now(): number {
    return Math.round((performance.now() - this.startedAt) * 1000) / 1000;
  }

  invoke(invocation: Invocation): Op {
    return this.record('invoke', invocation, invocation.value);
  }

  complete(invocation: Invocation, type: Exclude<OpType, 'invoke'>, value: unknown, error?: string): Op {
    return this.record(type, invocation, value, error);
  }

  /** An ok read the router marked stale. */
  completeStale(invocation: Invocation, value: unknown): Op {
    const op = this.record('ok', invocation, value);
    op.stale = true;
    return op;
  }

  /** A nemesis note: a standalone info op on process "nemesis". */
  nemesis(f: string, value: unknown): Op {
    return this.record('info', { process: 'nemesis', f, value }, value);
  }

  history(): readonly Op[] {
    return this.ops;
  }

  private record(type: OpType, invocation: Invocation, value: unknown, error?: string): Op {
    if (this.ops.length >= this.maxOps) throw new HistoryLimitError(`the history reached its bound of ${this.maxOps} events`);
    const op: Op = { process: invocation.process, type, f: invocation.f, value: value ?? null, time: this.now(), index: this.ops.length };
    if (invocation.key !== undefined) op.key = invocation.key;
    if (invocation.node !== undefined) op.node = invocation.node;
    if (error !== undefined) op.error = error;
    this.ops.push(op);
    return op;
  }
}

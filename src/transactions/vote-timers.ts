// Time for the voting engine: a monotonic clock and one-shot timers behind
// one small interface, so tests drive vote timeouts with virtual time.
import { performance } from 'node:perf_hooks';

export type TimerHandle = { readonly id: number } | NodeJS.Timeout;

export interface VoteTimers {
  /** Monotonic milliseconds; only differences mean anything. */
  nowMs(): number;
  setTimer(callback: () => void, delayMs: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

export const realVoteTimers: VoteTimers = {
  nowMs: () => performance.now(),
  setTimer: (callback, delayMs) => {
    const timer = setTimeout(callback, Math.max(0, delayMs));
    // A waiting vote alone must not keep the process alive.
    timer.unref();
    return timer;
  },
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Virtual time for tests: timers fire only when advance() passes them. */
export class ManualVoteTimers implements VoteTimers {
  private now = 0;
  private nextId = 1;
  private readonly pending = new Map<number, { atMs: number; callback: () => void }>();

  nowMs(): number {
    return this.now;
  }

  setTimer(callback: () => void, delayMs: number): TimerHandle {
    const id = this.nextId++;
    this.pending.set(id, { atMs: this.now + Math.max(0, delayMs), callback });
    return { id };
  }

  clearTimer(handle: TimerHandle): void {
    if ('id' in handle && typeof handle.id === 'number') this.pending.delete(handle.id);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Moves time forward, firing due timers in time order. */
  advance(ms: number): void {
    const target = this.now + ms;
    for (;;) {
      let due: [number, { atMs: number; callback: () => void }] | undefined;
      for (const entry of this.pending) if (entry[1].atMs <= target && (due === undefined || entry[1].atMs < due[1].atMs)) due = entry;
      if (due === undefined) break;
      this.pending.delete(due[0]);
      this.now = due[1].atMs;
      due[1].callback();
    }
    this.now = target;
  }
}

// Time for the prober: a monotonic clock and one-shot timers behind one small
// interface, so unit tests drive the prober with virtual time and no real
// timers at all.
import { performance } from 'node:perf_hooks';

export type TimerHandle = { readonly id: number } | NodeJS.Timeout;

export interface Scheduler {
  /** Monotonic milliseconds; only differences mean anything. */
  nowMs(): number;
  /** Runs `callback` once, `delayMs` from now. */
  setTimer(callback: () => void, delayMs: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

export const realScheduler: Scheduler = {
  nowMs: () => performance.now(),
  setTimer: (callback, delayMs) => {
    const timer = setTimeout(callback, Math.max(0, delayMs));
    // A prober alone must not keep the process alive.
    timer.unref();
    return timer;
  },
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

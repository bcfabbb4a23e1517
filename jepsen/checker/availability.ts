import type { Op } from './history.js';
import { clientOperations, pairOperations, type Operation } from './operations.js';

/** When a fault was active, in the history's time unit: from `start` until healed at `end`. */
export interface FaultWindow {
  start: number;
  end: number;
  /** What the fault was, carried into the result. */
  name?: string;
}

export interface WindowAvailability {
  window: FaultWindow;
  /**
   * Time from the fault's start to the completion of the first ok op invoked
   * at or after it; null when none was. How long service stopped, if it did.
   */
  firstOkAfterStart: number | null;
  /** Time from the heal to the completion of the first ok op invoked at or after it; null when none was. */
  firstOkAfterHeal: number | null;
  /** Ops invoked inside the window, and how many of them ended ok. */
  invokedDuring: number;
  okDuring: number;
}

export interface AvailabilityOptions {
  /** Only ops with these f count (e.g. only writes); default all client ops. */
  fs?: readonly string[];
}

/**
 * How the fault windows affected service: per window, the time until an op
 * started under the fault succeeded, and the time after the heal until one
 * succeeded. Times are in the history's unit (ns or ms, as recorded).
 */
export function availability(history: readonly Op[], windows: readonly FaultWindow[], options: AvailabilityOptions = {}): WindowAvailability[] {
  const fs = options.fs === undefined ? undefined : new Set(options.fs);
  const operations = clientOperations(pairOperations(history)).filter((o) => fs === undefined || fs.has(o.f));
  return windows.map((window) => ({
    window,
    firstOkAfterStart: firstOkAfter(operations, window.start),
    firstOkAfterHeal: firstOkAfter(operations, window.end),
    ...during(operations, window),
  }));
}

function firstOkAfter(operations: readonly Operation[], from: number): number | null {
  let first: number | null = null;
  for (const o of operations) {
    if (o.outcome !== 'ok' || o.invoke.time < from) continue;
    const done = o.completion!.time;
    if (first === null || done < first) first = done;
  }
  return first === null ? null : first - from;
}

function during(operations: readonly Operation[], window: FaultWindow): { invokedDuring: number; okDuring: number } {
  const inside = operations.filter((o) => o.invoke.time >= window.start && o.invoke.time < window.end);
  return { invokedDuring: inside.length, okDuring: inside.filter((o) => o.outcome === 'ok').length };
}

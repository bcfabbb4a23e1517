// The client workers: each loops taking the workload's next operation and
// running it through a random router, recording invoke and completion. A
// failed read is `fail` (it changed nothing); a failed mutator is `info`
// (it may have happened), and the worker continues as a fresh process, as
// in Jepsen, since the old one may still have a call in flight.
import type { Prng } from '../net/index.js';
import { describeError, statusName } from './gitaly-calls.js';
import type { HistoryRecorder, Invocation } from './history-recorder.js';
import { StaleRead } from './stale-read.js';
import type { PlannedOp, Workload } from './workloads/index.js';

export interface ClientWorkersOptions {
  readonly workload: Workload;
  readonly recorder: HistoryRecorder;
  readonly routers: readonly string[];
  readonly concurrency: number;
  /** One PRNG per worker, so a seed replays each worker's choices. */
  readonly rngOf: (worker: number) => Prng;
  /** Pause between a worker's operations: keeps the 2-core machine responsive. */
  readonly opDelayMs: number;
  /** After each ok mutator: note who wrote it (the split-brain stand-in). */
  readonly afterWrite?: (router: string, op: PlannedOp) => Promise<void>;
}

/**
 * Codes that say a mutator was refused before anything changed: the request
 * was malformed, or the storage node's precondition (a cas's old value, a
 * branch's expected head) did not hold, or the router found no writable
 * primary. Everything else (UNAVAILABLE, ABORTED after a write, deadlines)
 * leaves the outcome unknown.
 */
export const DEFINITE_FAILURES: ReadonlySet<string> = new Set(['INVALID_ARGUMENT', 'FAILED_PRECONDITION', 'NOT_FOUND', 'ALREADY_EXISTS', 'UNAUTHENTICATED', 'PERMISSION_DENIED', 'UNIMPLEMENTED']);

export class ClientWorkers {
  private running = false;
  private workers: Promise<void>[] = [];

  constructor(private readonly options: ClientWorkersOptions) {}

  start(): void {
    this.running = true;
    this.workers = Array.from({ length: this.options.concurrency }, (_, worker) => this.loop(worker));
  }

  /** Stops taking new operations and waits for the ones in flight (each bounded by its call deadline). */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
  }

  private async loop(worker: number): Promise<void> {
    const { workload, routers, concurrency, opDelayMs } = this.options;
    const rng = this.options.rngOf(worker);
    let process = worker;
    while (this.running) {
      const op = await workload.next(rng).catch(() => undefined);
      if (op !== undefined && this.running) {
        const crashed = await runOp(this.options.recorder, process, rng.pick(routers), op, this.options.afterWrite);
        if (crashed) process += concurrency;
      }
      await new Promise((resolve) => setTimeout(resolve, op === undefined ? Math.max(opDelayMs, 50) : opDelayMs));
    }
  }
}

/** Runs one op and records it; true when its outcome is unknown (the process is then retired). */
export async function runOp(
  recorder: HistoryRecorder,
  process: number,
  router: string,
  op: PlannedOp,
  afterWrite?: (router: string, op: PlannedOp) => Promise<void>,
): Promise<boolean> {
  const invocation: Invocation = { process, f: op.f, key: op.key, value: op.value, node: router };
  recorder.invoke(invocation);
  try {
    const value = await op.run(router);
    if (value instanceof StaleRead) recorder.completeStale(invocation, value.value);
    else recorder.complete(invocation, 'ok', op.f === 'read' || op.value === null ? value : op.value);
  } catch (error) {
    const unknown = op.mutates && !DEFINITE_FAILURES.has(statusName(error) ?? '');
    recorder.complete(invocation, unknown ? 'info' : 'fail', op.value, describeError(error));
    return unknown;
  }
  if (op.mutates && afterWrite !== undefined) await afterWrite(router, op).catch(() => undefined);
  return false;
}

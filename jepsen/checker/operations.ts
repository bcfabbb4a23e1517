import { HistoryPairingError } from './errors.js';
import type { Key, Op, Process } from './history.js';

/** How an invocation ended: a missing completion counts as `info` (the client never learned). */
export type Outcome = 'ok' | 'fail' | 'info';

/** An invocation paired with its completion (absent when the history ended first). */
export interface Operation {
  process: Process;
  f: string;
  key: Key | undefined;
  outcome: Outcome;
  invoke: Op;
  completion: Op | undefined;
}

/** The fault injector's process name; its ops are not client operations. */
export const NEMESIS = 'nemesis';

/**
 * Pairs each invocation with the next completion on its process, in
 * invocation order. A standalone `info` with nothing open on its process is
 * a note (Jepsen's nemesis style) and is not an operation. Throws
 * HistoryPairingError for indexes that do not increase, an `ok`/`fail` with
 * no open invocation, a second invocation while one is open, or a completion
 * whose f or key differs.
 */
export function pairOperations(history: readonly Op[]): Operation[] {
  const open = new Map<Process, Operation>();
  const operations: Operation[] = [];
  let previousIndex = -1;
  for (const op of history) {
    if (!(op.index > previousIndex)) throw new HistoryPairingError(op.index, 'index', `does not follow the previous op's index ${previousIndex}: real-time order is index order`);
    previousIndex = op.index;
    const pending = open.get(op.process);
    if (op.type === 'invoke') {
      if (pending !== undefined) {
        throw new HistoryPairingError(op.index, 'process', `process ${String(op.process)} invokes again while op index ${pending.invoke.index} is open`);
      }
      const operation: Operation = { process: op.process, f: op.f, key: op.key, outcome: 'info', invoke: op, completion: undefined };
      open.set(op.process, operation);
      operations.push(operation);
      continue;
    }
    if (pending === undefined) {
      if (op.type === 'info') continue;
      throw new HistoryPairingError(op.index, 'type', `${op.type} on process ${String(op.process)} with no open invocation`);
    }
    if (op.f !== pending.f) throw new HistoryPairingError(op.index, 'f', `completion f ${op.f} differs from invocation f ${pending.f} (index ${pending.invoke.index})`);
    if (op.key !== undefined && op.key !== pending.key) {
      throw new HistoryPairingError(op.index, 'key', `completion key ${String(op.key)} differs from invocation key ${String(pending.key)} (index ${pending.invoke.index})`);
    }
    pending.outcome = op.type;
    pending.completion = op;
    open.delete(op.process);
  }
  return operations;
}

/** Client operations only: the nemesis's are dropped. */
export function clientOperations(operations: readonly Operation[]): Operation[] {
  return operations.filter((o) => o.process !== NEMESIS);
}

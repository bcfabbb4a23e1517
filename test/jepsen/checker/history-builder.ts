import type { Key, Op, OpType } from '../../../jepsen/checker/index.js';

/**
 * Writes histories the way a reader draws them: `invoke(1, 'write', 3)`, then
 * later `ok(1)`. A completion takes f and key from its process's open
 * invocation; its value defaults to the invocation's. Time is the index, in ms.
 */
export class HistoryBuilder {
  readonly ops: Op[] = [];
  private readonly open = new Map<number | string, Op>();

  invoke(process: number | string, f: string, value: unknown = null, key?: Key): this {
    const op = this.push(process, 'invoke', f, value, key);
    this.open.set(process, op);
    return this;
  }

  ok(process: number | string, value?: unknown): this {
    return this.complete(process, 'ok', value);
  }

  fail(process: number | string): this {
    return this.complete(process, 'fail', undefined);
  }

  info(process: number | string): this {
    return this.complete(process, 'info', undefined);
  }

  private complete(process: number | string, type: OpType, value: unknown): this {
    const invoked = this.open.get(process);
    if (invoked === undefined) throw new Error(`builder: nothing open on process ${String(process)}`);
    this.open.delete(process);
    this.push(process, type, invoked.f, value === undefined ? invoked.value : value, invoked.key);
    return this;
  }

  private push(process: number | string, type: OpType, f: string, value: unknown, key: Key | undefined): Op {
    const index = this.ops.length;
    const op: Op = { process, type, f, value, time: index, index };
    if (key !== undefined) op.key = key;
    this.ops.push(op);
    return op;
  }
}

export function history(): HistoryBuilder {
  return new HistoryBuilder();
}

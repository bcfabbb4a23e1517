import type { Message, NodeId } from './types.js';

interface PendingRead {
  readonly index: number;
  readonly request: Message;
  readonly acks: Set<NodeId>;
}

export function contextKey(context: Uint8Array): string {
  let key = '';
  for (const byte of context) key += byte.toString(16).padStart(2, '0');
  return key;
}

/**
 * ReadIndex requests waiting for a quorum of heartbeat acks. Each is keyed by
 * its unique context; an ack for a later request also confirms every earlier
 * one, because leadership was proven at a later moment.
 */
export class ReadOnlyQueue {
  private readonly pending = new Map<string, PendingRead>();
  private readonly order: string[] = [];

  /** Returns false for a context already pending: the first request stands. */
  add(index: number, request: Message): boolean {
    const key = contextKey(request.context);
    if (this.pending.has(key)) return false;
    this.pending.set(key, { index, request, acks: new Set() });
    this.order.push(key);
    return true;
  }

  /** Records an ack; returns who has acked this context so far, or undefined if unknown. */
  recvAck(from: NodeId, context: Uint8Array): ReadonlySet<NodeId> | undefined {
    const read = this.pending.get(contextKey(context));
    if (!read) return undefined;
    read.acks.add(from);
    return read.acks;
  }

  /** Removes and returns every request up to and including the one with `context`. */
  advance(context: Uint8Array): { index: number; request: Message }[] {
    const key = contextKey(context);
    const at = this.order.indexOf(key);
    if (at < 0) return [];
    const done = this.order.splice(0, at + 1);
    return done.flatMap((k) => {
      const read = this.pending.get(k);
      this.pending.delete(k);
      return read ? [{ index: read.index, request: read.request }] : [];
    });
  }

  lastPendingContext(): Uint8Array | undefined {
    const key = this.order[this.order.length - 1];
    return key === undefined ? undefined : this.pending.get(key)?.request.context;
  }

  size(): number {
    return this.order.length;
  }

  clear(): void {
    this.pending.clear();
    this.order.length = 0;
  }
}

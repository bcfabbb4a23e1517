import type { ConfState, Entry, HardState, Snapshot } from '../raft/core/types.js';
import type { LogStore, PersistBatch } from '../raft/log-store.js';
import type { LogChange, LogMirror } from './log-mirror.js';

/** A save attempted after close(), or after a failed write left the disk behind the view. */
export class LogStoreClosedError extends Error {
  readonly code = 'LOG_STORE_CLOSED';
  constructor(reason: string) {
    super(`log store is closed: ${reason}`);
  }
}

/**
 * The part both log stores share, so their semantics cannot drift apart: the
 * reads come from the in-memory mirror, and every write is validated and
 * applied to the mirror synchronously (the core needs to see it before the
 * next Ready) and then handed to `persist`, which resolves once durable.
 */
export abstract class MirroredLogStore implements LogStore {
  private closedReason: string | undefined;

  protected constructor(protected mirror: LogMirror) {}

  initialState(): { hardState: HardState; confState: ConfState } {
    return this.mirror.initialState();
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    return this.mirror.entries(lo, hi, maxBytes);
  }

  term(index: number): number {
    return this.mirror.term(index);
  }

  firstIndex(): number {
    return this.mirror.firstIndex();
  }

  lastIndex(): number {
    return this.mirror.lastIndex();
  }

  snapshot(): Snapshot {
    return this.mirror.snapshot();
  }

  async save(batch: PersistBatch): Promise<void> {
    this.checkOpen();
    const change = this.mirror.planSave(batch);
    this.mirror.apply(change);
    await this.persist(change);
  }

  async saveSnapshot(snapshot: Snapshot, compactIndex: number): Promise<void> {
    this.checkOpen();
    const change = this.mirror.planSnapshot(snapshot, compactIndex);
    this.mirror.apply(change);
    await this.persist(change);
  }

  async close(): Promise<void> {
    this.markClosed('close() was called');
    await this.release();
  }

  /** Called in save order; must make changes durable in that same order. */
  protected abstract persist(change: LogChange): Promise<void>;

  protected abstract release(): Promise<void>;

  protected markClosed(reason: string): void {
    this.closedReason ??= reason;
  }

  private checkOpen(): void {
    if (this.closedReason !== undefined) throw new LogStoreClosedError(this.closedReason);
  }
}

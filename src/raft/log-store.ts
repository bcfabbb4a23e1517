import type { RaftStorage } from './core/storage.js';
import type { Entry, HardState, Snapshot } from './core/types.js';

/** What one Ready asks to make durable, written as one synced batch. */
export interface PersistBatch {
  readonly hardState: HardState | undefined;
  readonly entries: readonly Entry[];
  /** A snapshot received from the leader: replaces the log up to its index. */
  readonly snapshot: Snapshot | undefined;
}

/**
 * Durable Raft storage: the core reads it through RaftStorage, the driver
 * writes it. `save` resolves only once the batch is synced; until then the
 * in-memory view already shows it (the core needs that to build the next Ready).
 * Implementations: LevelDB (src/storage) and in-memory (for the simulator).
 */
export interface LogStore extends RaftStorage {
  /**
   * Persist atomically, in this order: hard state; the snapshot, which
   * replaces the WHOLE log (every entry, before or after its index: the core
   * only installs a snapshot whose index/term its log does not match, so
   * nothing after it can be kept); then the entries, truncating any
   * conflicting suffix from entries[0].index on.
   */
  save(batch: PersistBatch): Promise<void>;
  /** Record a snapshot the local state machine took at `snapshot.meta.index` and drop log entries up to `compactIndex`. */
  saveSnapshot(snapshot: Snapshot, compactIndex: number): Promise<void>;
  close(): Promise<void>;
}

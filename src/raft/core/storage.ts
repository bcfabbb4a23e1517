import type { ConfState, Entry, HardState, Snapshot } from './types.js';

/**
 * What the core reads of stable storage. Reads are synchronous: an
 * implementation keeps the uncompacted log in memory and persists it behind
 * this view (see LogStore in src/raft/log-store.ts).
 */
export interface RaftStorage {
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries in [lo, hi), cut to at most maxBytes of data (but at least one entry). */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /** The term of the entry at `index`; the snapshot's index is valid too. */
  term(index: number): number;
  /** Index of the first entry still in the log (snapshot index + 1). */
  firstIndex(): number;
  lastIndex(): number;
  /** The most recent snapshot, which may be empty (index 0). */
  snapshot(): Snapshot;
}

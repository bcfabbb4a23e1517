import type { Bitset } from './bitset.js';
import type { Model } from './model.js';

const ENTRY_OVERHEAD_BYTES = 120;

interface CachedConfiguration<S> {
  readonly linearized: Uint32Array;
  readonly state: S;
}

/**
 * The configurations (linearized set, model state) the search has already
 * reached: reaching one again cannot lead anywhere new, so the search
 * backtracks instead (Lowe's memoization of Wing & Gong's search).
 */
export class StateCache<S> {
  private readonly buckets = new Map<number, CachedConfiguration<S>[]>();
  size = 0;
  /** A rough count of the bytes held: the bitset copies plus per-entry overhead (states are shared, not counted). */
  bytes = 0;

  constructor(private readonly model: Model<S>) {}

  /** Adds the configuration; false when it was already there. */
  addIfAbsent(linearized: Bitset, state: S): boolean {
    const key = (Math.imul(linearized.hash, 31) + this.model.hash(state)) | 0;
    const bucket = this.buckets.get(key);
    if (bucket !== undefined) {
      for (const seen of bucket) {
        if (linearized.equals(seen.linearized) && this.model.equal(seen.state, state)) return false;
      }
    }
    const entry = { linearized: linearized.words.slice(), state };
    if (bucket === undefined) this.buckets.set(key, [entry]);
    else bucket.push(entry);
    this.size++;
    this.bytes += ENTRY_OVERHEAD_BYTES + entry.linearized.byteLength;
    return true;
  }
}

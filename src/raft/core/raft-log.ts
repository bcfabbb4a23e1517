import { CompactedError, invariant } from './errors.js';
import type { RaftStorage } from './storage.js';
import type { Entry, Snapshot } from './types.js';

export function entriesBytes(entries: readonly Entry[]): number {
  let total = 0;
  for (const entry of entries) total += entry.data.byteLength;
  return total;
}

/**
 * The log as the core sees it: stable entries in storage, then entries (and
 * possibly a snapshot) not yet persisted. `committed` and `applied` are the
 * two cursors that only move forward.
 */
export class RaftLog {
  /** Not yet persisted: `unstableEntries[0]` has index `unstableOffset`. */
  private unstableEntries: Entry[] = [];
  private unstableOffset: number;
  private unstableSnapshot: Snapshot | undefined;
  committed: number;
  applied: number;

  constructor(readonly storage: RaftStorage) {
    this.unstableOffset = storage.lastIndex() + 1;
    this.committed = storage.firstIndex() - 1;
    this.applied = storage.firstIndex() - 1;
  }

  firstIndex(): number {
    return this.unstableSnapshot ? this.unstableSnapshot.meta.index + 1 : this.storage.firstIndex();
  }

  lastIndex(): number {
    if (this.unstableEntries.length > 0) return this.unstableOffset + this.unstableEntries.length - 1;
    if (this.unstableSnapshot) return this.unstableSnapshot.meta.index;
    return this.storage.lastIndex();
  }

  lastTerm(): number {
    return this.termOrZero(this.lastIndex());
  }

  /** The term at `index`, or undefined when it is compacted or beyond the log. */
  term(index: number): number | undefined {
    const dummy = this.firstIndex() - 1;
    if (index < dummy || index > this.lastIndex()) return undefined;
    if (index >= this.unstableOffset && this.unstableEntries.length > 0) {
      return this.unstableEntries[index - this.unstableOffset]?.term;
    }
    if (this.unstableSnapshot && index === this.unstableSnapshot.meta.index) return this.unstableSnapshot.meta.term;
    try {
      return this.storage.term(index);
    } catch {
      return undefined;
    }
  }

  termOrZero(index: number): number {
    return this.term(index) ?? 0;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Raft §5.4.1: a candidate's log is at least as up to date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  append(entries: readonly Entry[]): number {
    const first = entries[0];
    if (!first) return this.lastIndex();
    invariant(first.index > this.committed, () => `append at ${first.index} would overwrite committed ${this.committed}`);
    this.truncateAndAppend(entries);
    return this.lastIndex();
  }

  private truncateAndAppend(entries: readonly Entry[]): void {
    const after = entries[0]!.index;
    const unstableEnd = this.unstableOffset + this.unstableEntries.length;
    if (after === unstableEnd) {
      this.unstableEntries.push(...entries);
    } else if (after <= this.unstableOffset) {
      // Replaces the whole unstable part; storage keeps what it has until the
      // driver persists these, which truncates the stable suffix as well.
      this.unstableOffset = after;
      this.unstableEntries = [...entries];
    } else {
      this.unstableEntries = [...this.unstableEntries.slice(0, after - this.unstableOffset), ...entries];
    }
  }

  /**
   * The follower side of AppendEntries: if our log matches (index, logTerm),
   * append what is new and return the last new index; else undefined.
   */
  maybeAppend(index: number, logTerm: number, leaderCommit: number, entries: readonly Entry[]): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = index + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      invariant(conflict > this.committed, () => `conflict at ${conflict} is within committed ${this.committed}`);
      this.append(entries.slice(conflict - (index + 1)));
    }
    this.commitTo(Math.min(leaderCommit, lastNew));
    return lastNew;
  }

  /** The index of the first entry that is new or disagrees with our log, or 0. */
  private findConflict(entries: readonly Entry[]): number {
    for (const entry of entries) {
      if (!this.matchTerm(entry.index, entry.term)) return entry.index;
    }
    return 0;
  }

  /**
   * Fast backtracking: the largest index ≤ `index` whose term is ≤ `term`,
   * with that term. Everything above it cannot match a log whose entry at
   * `index` has `term`.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (let i = index; i >= 0; i--) {
      const t = this.term(i);
      if (t === undefined) return { index: i, term: 0 };
      if (t <= term) return { index: i, term: t };
    }
    return { index: 0, term: 0 };
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    invariant(index <= this.lastIndex(), () => `commit ${index} beyond last index ${this.lastIndex()}`);
    this.committed = index;
  }

  /** The figure-8 rule: only an entry of the current term commits by counting replicas. */
  maybeCommit(index: number, term: number): boolean {
    if (index > this.committed && this.termOrZero(index) === term) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  appliedTo(index: number): void {
    if (index === 0) return;
    invariant(index <= this.committed && index >= this.applied, () => `applied ${index} outside [${this.applied}, ${this.committed}]`);
    this.applied = index;
  }

  unstable(): readonly Entry[] {
    return this.unstableEntries;
  }

  pendingSnapshot(): Snapshot | undefined {
    return this.unstableSnapshot;
  }

  /** Marks entries up to (index, term) persisted; ignored if they were replaced meanwhile. */
  stableTo(index: number, term: number): void {
    if (index < this.unstableOffset) return;
    const entry = this.unstableEntries[index - this.unstableOffset];
    if (!entry || entry.term !== term) return;
    this.unstableEntries = this.unstableEntries.slice(index + 1 - this.unstableOffset);
    this.unstableOffset = index + 1;
  }

  stableSnapTo(index: number): void {
    if (this.unstableSnapshot?.meta.index === index) this.unstableSnapshot = undefined;
  }

  hasNextCommitted(): boolean {
    return this.committed > Math.max(this.applied, this.firstIndex() - 1);
  }

  /** Committed entries not yet handed to the state machine, at most `maxBytes` (at least one). */
  nextCommitted(maxBytes: number): Entry[] {
    const lo = Math.max(this.applied + 1, this.firstIndex());
    if (this.committed < lo) return [];
    return this.slice(lo, this.committed + 1, maxBytes);
  }

  /** Entries in [lo, hi), at most `maxBytes` of data but at least one entry. */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo >= hi) return [];
    if (lo < this.firstIndex()) throw new CompactedError(lo, this.firstIndex());
    invariant(hi <= this.lastIndex() + 1, () => `slice [${lo}, ${hi}) beyond last index ${this.lastIndex()}`);
    const result: Entry[] = [];
    if (lo < this.unstableOffset) {
      result.push(...this.storage.entries(lo, Math.min(hi, this.unstableOffset), maxBytes));
      if (result.length < Math.min(hi, this.unstableOffset) - lo) return result;
    }
    let budget = maxBytes - entriesBytes(result);
    for (let i = Math.max(lo, this.unstableOffset); i < hi; i++) {
      const entry = this.unstableEntries[i - this.unstableOffset];
      invariant(entry !== undefined, () => `missing unstable entry ${i}`);
      if (result.length > 0 && entry.data.byteLength > budget) break;
      result.push(entry);
      budget -= entry.data.byteLength;
    }
    return result;
  }

  /** Entries from `lo` to the end, bounded by `maxBytes`; throws CompactedError below the first index. */
  entriesFrom(lo: number, maxBytes: number): Entry[] {
    return this.slice(lo, this.lastIndex() + 1, maxBytes);
  }

  /** The leader's snapshot to send, or undefined when storage has none. */
  snapshot(): Snapshot | undefined {
    if (this.unstableSnapshot) return this.unstableSnapshot;
    const snapshot = this.storage.snapshot();
    return snapshot.meta.index > 0 ? snapshot : undefined;
  }

  /** Replaces the whole log with a snapshot received from the leader. */
  restore(snapshot: Snapshot): void {
    this.committed = snapshot.meta.index;
    this.unstableOffset = snapshot.meta.index + 1;
    this.unstableEntries = [];
    this.unstableSnapshot = snapshot;
  }
}

import { CompactedError, UnavailableError, invariant } from '../raft/core/errors.js';
import type { ConfState, Entry, HardState, Snapshot } from '../raft/core/types.js';
import { EMPTY_BYTES } from '../raft/core/types.js';
import type { PersistBatch } from '../raft/log-store.js';

/**
 * The position just before the first stored entry. Its term must survive
 * compaction because the core asks for the term of the entry preceding any
 * entries it sends (and `term(firstIndex - 1)` must work).
 */
export interface LogBase {
  readonly index: number;
  readonly term: number;
}

/** Everything a log store holds, as plain data: what a restart would read back. */
export interface LogImage {
  readonly hardState: HardState;
  readonly snapshot: Snapshot;
  readonly base: LogBase;
  /** Contiguous, starting at base.index + 1. */
  readonly entries: readonly Entry[];
}

/** Inclusive range of log indices. */
export interface IndexRange {
  readonly from: number;
  readonly to: number;
}

/**
 * A validated change. Both stores apply it to their mirror; the LevelDB store
 * also turns it into one batch, so the description is in terms of keys touched.
 */
export interface LogChange {
  /** The log shape the change was planned against, to catch replays onto the wrong state. */
  readonly fromBaseIndex: number;
  readonly fromLastIndex: number;
  readonly hardState: HardState | undefined;
  readonly snapshot: Snapshot | undefined;
  readonly base: LogBase | undefined;
  /** Old entries in [keepFrom, keepTo] survive; keepTo = keepFrom - 1 keeps none. */
  readonly keepFrom: number;
  readonly keepTo: number;
  /** Written right after keepTo. */
  readonly appended: readonly Entry[];
  /** Old entries that disappear without being overwritten by `appended`. */
  readonly deleted: readonly IndexRange[];
}

export const EMPTY_HARD_STATE: HardState = { term: 0, vote: 0, commit: 0 };
export const EMPTY_CONF_STATE: ConfState = { voters: [], learners: [] };
export const EMPTY_SNAPSHOT: Snapshot = {
  meta: { index: 0, term: 0, confState: EMPTY_CONF_STATE },
  data: EMPTY_BYTES,
};
export const EMPTY_IMAGE: LogImage = {
  hardState: EMPTY_HARD_STATE,
  snapshot: EMPTY_SNAPSHOT,
  base: { index: 0, term: 0 },
  entries: [],
};

/** Planning state while a change is being validated; nothing is mutated until apply(). */
interface Draft {
  hardState: HardState;
  snapshot: Snapshot;
  base: LogBase;
  keepFrom: number;
  keepTo: number;
  appended: readonly Entry[];
}

/**
 * The uncompacted log, hard state and snapshot held in memory so that the
 * core's reads are synchronous. Every write is planned (validated, no
 * mutation) and then applied, so a refused write leaves the view untouched.
 */
export class LogMirror {
  private hard: HardState;
  private snap: Snapshot;
  private logBase: LogBase;
  private log: Entry[];

  constructor(image: LogImage = EMPTY_IMAGE) {
    checkImage(image);
    this.hard = image.hardState;
    this.snap = image.snapshot;
    this.logBase = image.base;
    this.log = [...image.entries];
  }

  image(): LogImage {
    return { hardState: this.hard, snapshot: this.snap, base: this.logBase, entries: [...this.log] };
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hard, confState: this.snap.meta.confState };
  }

  hardState(): HardState {
    return this.hard;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  firstIndex(): number {
    return this.logBase.index + 1;
  }

  lastIndex(): number {
    return this.logBase.index + this.log.length;
  }

  term(index: number): number {
    if (index < this.logBase.index) throw new CompactedError(index, this.firstIndex());
    if (index > this.lastIndex()) throw new UnavailableError(index, this.lastIndex());
    return index === this.logBase.index ? this.logBase.term : this.entryAt(index).term;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    invariant(lo <= hi, () => `entries(${lo}, ${hi}): lo > hi`);
    if (lo < this.firstIndex()) throw new CompactedError(lo, this.firstIndex());
    if (hi > this.lastIndex() + 1) throw new UnavailableError(hi, this.lastIndex());
    const out: Entry[] = [];
    let bytes = 0;
    for (let index = lo; index < hi; index++) {
      const entry = this.entryAt(index);
      bytes += entry.data.byteLength;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(entry);
    }
    return out;
  }

  /** Validates a Ready's batch against the current state. Throws RaftInvariantError. */
  planSave(batch: PersistBatch): LogChange {
    const draft = this.draft();
    if (batch.hardState !== undefined) draft.hardState = this.checkHardState(batch.hardState);
    if (batch.snapshot !== undefined) this.planReceivedSnapshot(draft, batch.snapshot);
    if (batch.entries.length > 0) this.planAppend(draft, batch.entries);
    const lastIndex = draft.keepTo + draft.appended.length;
    invariant(draft.hardState.commit <= lastIndex, () => `commit ${draft.hardState.commit} is beyond last index ${lastIndex}`);
    return this.finish(draft);
  }

  /** Validates recording a locally taken snapshot and compacting up to compactIndex. */
  planSnapshot(snapshot: Snapshot, compactIndex: number): LogChange {
    const { index, term } = snapshot.meta;
    invariant(index >= this.snap.meta.index, () => `snapshot ${index} is older than the stored snapshot ${this.snap.meta.index}`);
    invariant(index <= this.hard.commit, () => `snapshot ${index} is beyond commit ${this.hard.commit}`);
    invariant(index <= this.lastIndex(), () => `snapshot ${index} is beyond last index ${this.lastIndex()}`);
    invariant(this.term(index) === term, () => `snapshot ${index} has term ${term}, the log has ${this.term(index)}`);
    invariant(compactIndex <= index, () => `compact index ${compactIndex} is beyond snapshot ${index}: entries would be lost`);
    const draft = this.draft();
    draft.snapshot = snapshot;
    if (compactIndex > this.logBase.index) {
      draft.base = { index: compactIndex, term: this.term(compactIndex) };
      draft.keepFrom = compactIndex + 1;
    }
    return this.finish(draft);
  }

  apply(change: LogChange): void {
    invariant(
      change.fromBaseIndex === this.logBase.index && change.fromLastIndex === this.lastIndex(),
      () => `change planned for log (${change.fromBaseIndex}, ${change.fromLastIndex}] applied to (${this.logBase.index}, ${this.lastIndex()}]`,
    );
    const start = change.keepFrom - this.logBase.index - 1;
    const end = change.keepTo - this.logBase.index;
    // In place: a save usually only appends, and copying the log each time would be O(n).
    if (end < this.log.length) this.log.length = end;
    if (start > 0) this.log.splice(0, start);
    for (const entry of change.appended) this.log.push(entry);
    if (change.hardState !== undefined) this.hard = change.hardState;
    if (change.snapshot !== undefined) this.snap = change.snapshot;
    if (change.base !== undefined) this.logBase = change.base;
  }

  private entryAt(index: number): Entry {
    const entry = this.log[index - this.logBase.index - 1];
    invariant(entry !== undefined && entry.index === index, () => `entry ${index} missing from the mirror`);
    return entry;
  }

  private draft(): Draft {
    return {
      hardState: this.hard,
      snapshot: this.snap,
      base: this.logBase,
      keepFrom: this.logBase.index + 1,
      keepTo: this.lastIndex(),
      appended: [],
    };
  }

  /** A node never votes twice in one term, even across a crash: refuse to store it. Nor may commit regress. */
  private checkHardState(next: HardState): HardState {
    const prev = this.hard;
    invariant(next.term >= prev.term, () => `term going back from ${prev.term} to ${next.term}`);
    invariant(next.commit >= prev.commit, () => `commit going back from ${prev.commit} to ${next.commit}`);
    invariant(
      next.term > prev.term || prev.vote === 0 || next.vote === prev.vote,
      () => `vote in term ${next.term} changing from ${prev.vote} to ${next.vote}`,
    );
    return next;
  }

  /**
   * A snapshot from the leader replaces the log up to its index. Entries after
   * it survive only if the log agrees at the snapshot's index (Raft §7); else
   * the whole log goes.
   */
  private planReceivedSnapshot(draft: Draft, snapshot: Snapshot): void {
    const { index, term } = snapshot.meta;
    invariant(index > this.snap.meta.index, () => `received snapshot ${index} is not newer than the stored ${this.snap.meta.index}`);
    const matches = index <= this.lastIndex() && this.term(index) === term;
    invariant(
      matches || index > this.hard.commit,
      () => `received snapshot (${index}, term ${term}) conflicts with committed entry ${index}`,
    );
    draft.snapshot = snapshot;
    draft.base = { index, term };
    draft.keepFrom = index + 1;
    draft.keepTo = matches ? this.lastIndex() : index;
  }

  private planAppend(draft: Draft, entries: readonly Entry[]): void {
    checkContiguous(entries);
    const first = entries[0] as Entry;
    const lastIndex = draft.keepTo;
    const snapshotIndex = draft.snapshot.meta.index;
    invariant(first.index <= lastIndex + 1, () => `append at ${first.index} leaves a gap after last index ${lastIndex}`);
    invariant(first.index > snapshotIndex, () => `append at ${first.index} is not after snapshot ${snapshotIndex}`);
    invariant(
      first.index > lastIndex || first.index > this.hard.commit,
      () => `append at ${first.index} would truncate committed entries (commit ${this.hard.commit})`,
    );
    const prevTerm = first.index - 1 === draft.base.index ? draft.base.term : this.term(first.index - 1);
    invariant(first.term >= prevTerm, () => `entry ${first.index} has term ${first.term} below the preceding term ${prevTerm}`);
    draft.keepTo = first.index - 1;
    draft.appended = entries;
  }

  private finish(draft: Draft): LogChange {
    const oldFirst = this.logBase.index + 1;
    const oldLast = this.lastIndex();
    const deleted: IndexRange[] = [];
    const frontTo = Math.min(draft.keepFrom - 1, oldLast);
    if (frontTo >= oldFirst) deleted.push({ from: oldFirst, to: frontTo });
    const backFrom = Math.max(draft.keepTo + draft.appended.length + 1, oldFirst);
    if (oldLast >= backFrom) deleted.push({ from: backFrom, to: oldLast });
    return {
      fromBaseIndex: this.logBase.index,
      fromLastIndex: oldLast,
      hardState: draft.hardState === this.hard ? undefined : draft.hardState,
      snapshot: draft.snapshot === this.snap ? undefined : draft.snapshot,
      base: draft.base === this.logBase ? undefined : draft.base,
      keepFrom: draft.keepFrom,
      keepTo: draft.keepTo,
      appended: draft.appended,
      deleted,
    };
  }
}

function checkContiguous(entries: readonly Entry[]): void {
  for (let k = 1; k < entries.length; k++) {
    const prev = entries[k - 1] as Entry;
    const next = entries[k] as Entry;
    invariant(next.index === prev.index + 1, () => `entries not contiguous: ${prev.index} then ${next.index}`);
    invariant(next.term >= prev.term, () => `entry ${next.index} has term ${next.term} below ${prev.term}`);
  }
}

function checkImage(image: LogImage): void {
  const { base, snapshot, entries } = image;
  checkContiguous(entries);
  const first = entries[0];
  invariant(first === undefined || first.index === base.index + 1, () => `log starts at ${first?.index}, expected ${base.index + 1}`);
  invariant(base.index <= snapshot.meta.index, () => `log base ${base.index} is beyond snapshot ${snapshot.meta.index}`);
  const lastIndex = base.index + entries.length;
  invariant(snapshot.meta.index <= lastIndex, () => `snapshot ${snapshot.meta.index} is beyond last index ${lastIndex}`);
}

import { Inflights } from './inflights.js';
import type { Snapshot } from './types.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** An InstallSnapshot transfer under way to one follower. */
export interface SnapshotTransfer {
  readonly snapshot: Snapshot;
  /** The next byte offset the follower asked for. */
  offset: number;
}

/**
 * The leader's view of one follower. In probe it sends one append per
 * heartbeat until it finds where the logs match; in replicate it pipelines
 * appends up to the inflight bound; in snapshot it sends snapshot chunks and
 * nothing else.
 */
export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  pendingSnapshot = 0;
  transfer: SnapshotTransfer | undefined;
  /** Heard from since the last CheckQuorum round. */
  recentActive = false;
  /** In probe: an append is out and unanswered, so wait for the next heartbeat. */
  probeSent = false;
  readonly inflights: Inflights;

  constructor(
    next: number,
    maxInflightMsgs: number,
    maxInflightBytes: number,
    public isLearner: boolean,
  ) {
    this.next = next;
    this.inflights = new Inflights(maxInflightMsgs, maxInflightBytes);
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.transfer = undefined;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    if (this.state === 'snapshot') {
      const pendingSnapshot = this.pendingSnapshot;
      this.resetState('probe');
      this.next = Math.max(this.match + 1, pendingSnapshot + 1);
    } else {
      this.resetState('probe');
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshot: Snapshot): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshot.meta.index;
    this.transfer = { snapshot, offset: 0 };
  }

  /** Records an acknowledgement up to `index`; false when it says nothing new. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /**
   * Handles a rejected append at `rejected`. `matchHint` is the highest index
   * at which the logs may still match (from fast backtracking). Returns false
   * for a stale rejection.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }

  /** Accounts for an append carrying `count` entries ending at `lastIndex`. */
  sentEntries(count: number, lastIndex: number, sizeBytes: number): void {
    if (this.state === 'replicate') {
      if (count > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex, sizeBytes);
      }
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }

  describe(): string {
    const extra = this.state === 'snapshot' ? ` pendingSnapshot=${this.pendingSnapshot}` : '';
    return `${this.state} match=${this.match} next=${this.next}${this.isLearner ? ' learner' : ''}${extra}`;
  }
}

import type { RaftOptions } from './config.js';
import { encodeConfChange } from './conf-change.js';
import { invariant, NotLeaderError, RaftInvariantError } from './errors.js';
import { Raft } from './raft.js';
import {
  isLocalMessage,
  message,
  NONE,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type Ready,
  type SoftState,
  type StateRole,
} from './types.js';

export interface RaftStatus {
  readonly id: NodeId;
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly lead: NodeId;
  readonly role: StateRole;
  readonly confState: ConfState;
  readonly leadTransferee: NodeId;
  /** Leader only: each member's progress. */
  readonly progress: ReadonlyMap<NodeId, { match: number; next: number; state: string; recentActive: boolean }>;
}

interface Handed {
  readonly lastEntry: { index: number; term: number } | undefined;
  readonly snapshotIndex: number;
  readonly lastCommitted: number;
  readonly committedEntries: readonly Entry[];
}

/**
 * The application's handle on a Raft node: inputs go in as calls; work comes
 * out as a Ready. Between ready() and advance() the driver persists, sends
 * and applies; it may keep stepping messages meanwhile, but may not ask for
 * another Ready.
 */
export class RawNode {
  readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  private handed: Handed | undefined;

  constructor(options: RaftOptions) {
    this.raft = new Raft(options);
    this.prevSoftState = this.softState();
    this.prevHardState = this.raft.hardState();
  }

  tick(): void {
    this.raft.tick();
  }

  campaign(): void {
    this.raft.step(message({ type: 'hup', from: this.raft.id }));
  }

  /** Proposes a batch of commands; throws NotLeaderError, ProposalDroppedError or UncommittedLogFullError. */
  propose(payloads: readonly Uint8Array[]): void {
    if (payloads.length === 0) return;
    const entries: Entry[] = payloads.map((data) => ({ term: 0, index: 0, type: 'normal', data }));
    this.raft.step(message({ type: 'prop', from: this.raft.id, entries }));
  }

  proposeConfChange(change: ConfChange): void {
    const entry: Entry = { term: 0, index: 0, type: 'confChange', data: encodeConfChange(change) };
    this.raft.step(message({ type: 'prop', from: this.raft.id, entries: [entry] }));
  }

  /** Asks for a linearizable read point; the answer arrives as a ReadState carrying `context`. */
  readIndex(context: Uint8Array): void {
    invariant(context.length > 0, () => 'readIndex needs a non-empty unique context');
    this.raft.step(message({ type: 'readIndex', from: this.raft.id, context }));
  }

  transferLeadership(to: NodeId): void {
    if (this.raft.lead === NONE) throw new NotLeaderError(NONE, 'no leader to transfer from');
    this.raft.step(message({ type: 'transferLeader', from: to, to: this.raft.lead }));
  }

  applyConfChange(change: ConfChange): ConfState {
    return this.raft.applyConfChange(change);
  }

  /**
   * Steps a message from the network, including proposals and reads that a
   * follower forwarded (those may throw like local ones; the driver drops
   * them). Purely local message types are refused.
   */
  step(m: Message): void {
    if (isLocalMessage(m.type)) throw new RaftInvariantError(`message type ${m.type} is local and cannot come from the network`);
    if (m.from === NONE) throw new RaftInvariantError(`message type ${m.type} from node 0`);
    this.raft.step(m);
  }

  reportUnreachable(id: NodeId): void {
    this.raft.step(message({ type: 'unreachable', from: id }));
  }

  reportSnapshotFailed(id: NodeId): void {
    this.raft.step(message({ type: 'snapStatus', from: id, reject: true }));
  }

  private softState(): SoftState {
    return { leader: this.raft.lead, role: this.raft.role };
  }

  hasReady(): boolean {
    if (this.handed) return false;
    const soft = this.softState();
    if (soft.leader !== this.prevSoftState.leader || soft.role !== this.prevSoftState.role) return true;
    if (!sameHardState(this.raft.hardState(), this.prevHardState)) return true;
    const log = this.raft.log;
    return (
      this.raft.msgs.length > 0 ||
      this.raft.readStates.length > 0 ||
      log.unstable().length > 0 ||
      log.pendingSnapshot() !== undefined ||
      log.hasNextCommitted()
    );
  }

  ready(): Ready {
    invariant(this.handed === undefined, () => 'ready() called twice without advance()');
    const raft = this.raft;
    const log = raft.log;
    const soft = this.softState();
    const hard = raft.hardState();
    const entries = [...log.unstable()];
    const snapshot = log.pendingSnapshot();
    const committedEntries = log.nextCommitted(raft.config.maxCommittedBytesPerReady);
    const rd: Ready = {
      softState: soft.leader !== this.prevSoftState.leader || soft.role !== this.prevSoftState.role ? soft : undefined,
      hardState: sameHardState(hard, this.prevHardState) ? undefined : hard,
      entries,
      snapshot,
      committedEntries,
      messages: raft.msgs,
      readStates: raft.readStates,
    };
    raft.msgs = [];
    raft.readStates = [];
    this.prevSoftState = soft;
    this.prevHardState = hard;
    const last = entries[entries.length - 1];
    this.handed = {
      lastEntry: last ? { index: last.index, term: last.term } : undefined,
      snapshotIndex: snapshot?.meta.index ?? 0,
      lastCommitted: committedEntries[committedEntries.length - 1]?.index ?? 0,
      committedEntries,
    };
    return rd;
  }

  /** The driver has persisted, sent and applied the last Ready. */
  advance(): void {
    const handed = this.handed;
    invariant(handed !== undefined, () => 'advance() without ready()');
    this.handed = undefined;
    const log = this.raft.log;
    if (handed.snapshotIndex > 0) {
      log.stableSnapTo(handed.snapshotIndex);
      if (handed.snapshotIndex > log.applied) log.applied = handed.snapshotIndex;
    }
    if (handed.lastEntry) log.stableTo(handed.lastEntry.index, handed.lastEntry.term);
    if (handed.lastCommitted > 0) log.appliedTo(handed.lastCommitted);
    this.raft.reduceUncommittedBytes(handed.committedEntries);
  }

  status(): RaftStatus {
    const raft = this.raft;
    const progress = new Map<NodeId, { match: number; next: number; state: string; recentActive: boolean }>();
    if (raft.role === 'leader') {
      for (const [id, pr] of raft.progress) {
        progress.set(id, { match: pr.match, next: pr.next, state: pr.state, recentActive: pr.recentActive });
      }
    }
    return {
      id: raft.id,
      term: raft.term,
      vote: raft.vote,
      commit: raft.log.committed,
      applied: raft.log.applied,
      lastIndex: raft.log.lastIndex(),
      lead: raft.lead,
      role: raft.role,
      confState: raft.confState(),
      leadTransferee: raft.leadTransferee,
      progress,
    };
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

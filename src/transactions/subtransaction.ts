// One round of voting inside a transaction: every voter may cast one vote,
// and the round is decided once one hash carries the threshold, or once no
// hash can reach it any more. Pure and synchronous; the transaction answers
// the waiting voters.
import { InvalidVoteError } from './errors.js';
import type { Voter } from './voters.js';

/**
 * committed: the voter's hash won. failed: another hash won, or no hash
 * could win. cancelled: the voter or the transaction was cancelled.
 * stopped: the transaction was stopped before the voter was decided.
 */
export type VoterResult = 'undecided' | 'committed' | 'failed' | 'cancelled' | 'stopped';

interface Slot {
  readonly votes: number;
  /** Hex of the hash this voter cast. */
  vote: string | undefined;
  result: VoterResult;
}

export class Subtransaction {
  private readonly slots = new Map<string, Slot>();
  private readonly counts = new Map<string, number>();
  private decided = false;

  constructor(
    voters: readonly Voter[],
    readonly threshold: number,
    /** Voters already out of the transaction: they start cancelled. */
    excluded: ReadonlySet<string>,
  ) {
    for (const voter of voters) {
      this.slots.set(voter.name, { votes: voter.votes, vote: undefined, result: excluded.has(voter.name) ? 'cancelled' : 'undecided' });
    }
    this.evaluate();
  }

  /** Whether the voters waiting on this round have been (or can be) answered. */
  get done(): boolean {
    return this.decided;
  }

  resultOf(node: string): VoterResult {
    return this.slot(node).result;
  }

  hasVoted(node: string): boolean {
    return this.slot(node).vote !== undefined;
  }

  /** The winning hash, once one reached the threshold. */
  winner(): string | undefined {
    const [hash, count] = this.leader();
    return hash !== undefined && count >= this.threshold ? hash : undefined;
  }

  /** Records the vote; the voter's result changes at once if the round is (or becomes) decided. */
  vote(node: string, hash: string): void {
    const slot = this.slot(node);
    if (slot.vote !== undefined) throw new InvalidVoteError('already_voted', `node "${node}" already voted in this subtransaction`);
    if (slot.result !== 'undecided') throw new InvalidVoteError('already_voted', `node "${node}" is already ${slot.result} in this subtransaction`);
    slot.vote = hash;
    this.counts.set(hash, (this.counts.get(hash) ?? 0) + slot.votes);
    if (this.decided) {
      // A late voter after the decision: it commits only if it agrees with the winner.
      slot.result = this.winner() === hash ? 'committed' : 'failed';
      return;
    }
    this.evaluate();
  }

  /**
   * Takes the voter out: its vote no longer counts (while the round is
   * open) and it is cancelled. A decided voter keeps its result: it may
   * have acted on it already.
   */
  withdraw(node: string): void {
    const slot = this.slot(node);
    if (slot.result !== 'undecided') return;
    if (slot.vote !== undefined && !this.decided) this.counts.set(slot.vote, (this.counts.get(slot.vote) ?? 0) - slot.votes);
    slot.result = 'cancelled';
    if (!this.decided) this.evaluate();
  }

  /** Ends the round: every undecided voter gets `result`. */
  end(result: 'cancelled' | 'stopped' | 'failed'): void {
    for (const slot of this.slots.values()) if (slot.result === 'undecided') slot.result = result;
    this.decided = true;
  }

  private evaluate(): void {
    const [leader, count] = this.leader();
    if (leader !== undefined && count >= this.threshold) {
      this.decide((slot) => (slot.vote === leader ? 'committed' : 'failed'));
      return;
    }
    let outstanding = 0;
    for (const slot of this.slots.values()) if (slot.vote === undefined && slot.result === 'undecided') outstanding += slot.votes;
    // Quorum is impossible: even if every missing voter joined the leading
    // hash it would stay short. Everyone who voted is answered now.
    if (count + outstanding < this.threshold) this.decide(() => 'failed');
  }

  /** Decides every voter that has voted and is still undecided; voters yet to vote are decided when they do. */
  private decide(resultOf: (slot: Slot) => VoterResult): void {
    for (const slot of this.slots.values()) {
      if (slot.result === 'undecided' && slot.vote !== undefined) slot.result = resultOf(slot);
    }
    this.decided = true;
  }

  private leader(): [string | undefined, number] {
    let leader: string | undefined;
    let best = 0;
    for (const [hash, count] of this.counts) {
      if (count > best) {
        leader = hash;
        best = count;
      }
    }
    return [leader, best];
  }

  private slot(node: string): Slot {
    const slot = this.slots.get(node);
    if (slot === undefined) throw new InvalidVoteError('unknown_voter', `node "${node}" is not a voter of this transaction`);
    return slot;
  }
}

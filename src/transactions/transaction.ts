// A transaction: the sequence of subtransactions a fixed set of voters goes
// through. Every further vote by a node opens (or joins) the next
// subtransaction; a node that failed or was cancelled in one is out for the
// rest of the transaction. Pure state; the manager answers voters.
import { InvalidVoteError, TransactionLimitError } from './errors.js';
import { Subtransaction, type VoterResult } from './subtransaction.js';
import type { Voter } from './voters.js';

/** aborted: a vote timed out, so every later vote is answered ABORT. */
export type TransactionState = 'open' | 'cancelled' | 'stopped' | 'aborted';

export type Placement = { subtransaction: Subtransaction } | { answer: Exclude<VoterResult, 'undecided' | 'committed'> };

export interface TransactionSummary {
  id: number;
  state: TransactionState;
  subtransactions: number;
  /**
   * Per voter: committed when it committed every subtransaction so far (and
   * there was at least one); otherwise the first result that was not a
   * commit (undecided: it still has a round to vote in).
   */
  voters: Record<string, VoterResult>;
  /** Voters that cast at least one vote. */
  voted: string[];
}

export class Transaction {
  private stateValue: TransactionState = 'open';
  private readonly rounds: Subtransaction[] = [];
  /** Voters out for the rest of the transaction. */
  private readonly excluded = new Set<string>();
  private readonly names: ReadonlySet<string>;

  constructor(
    readonly id: number,
    readonly voters: readonly Voter[],
    readonly threshold: number,
    private readonly maxSubtransactions: number,
  ) {
    this.names = new Set(voters.map((v) => v.name));
  }

  get state(): TransactionState {
    return this.stateValue;
  }

  get subtransactionCount(): number {
    return this.rounds.length;
  }

  /** The subtransaction the node votes in next, or the answer it gets without voting. */
  place(node: string): Placement {
    if (!this.names.has(node)) throw new InvalidVoteError('unknown_voter', `node "${node}" is not a voter of transaction ${this.id}`);
    switch (this.stateValue) {
      case 'cancelled':
        return { answer: 'cancelled' };
      case 'stopped':
        return { answer: 'stopped' };
      case 'aborted':
        return { answer: 'failed' };
      case 'open':
        break;
    }
    for (const round of this.rounds) {
      const result = round.resultOf(node);
      if (result === 'undecided') return { subtransaction: round };
      if (result !== 'committed') return { answer: result };
    }
    if (this.rounds.length >= this.maxSubtransactions) {
      throw new TransactionLimitError('too_many_subtransactions', `transaction ${this.id} reached its limit of ${this.maxSubtransactions} subtransactions`);
    }
    const round = new Subtransaction(this.voters, this.threshold, this.excluded);
    this.rounds.push(round);
    return { subtransaction: round };
  }

  hasVoter(node: string): boolean {
    return this.names.has(node);
  }

  /** Takes a node out for the rest of the transaction (it failed outside the vote, or its vote call ended). */
  withdraw(node: string): void {
    if (!this.names.has(node)) throw new InvalidVoteError('unknown_voter', `node "${node}" is not a voter of transaction ${this.id}`);
    this.exclude(node);
    this.propagateExclusions();
  }

  /**
   * A node that failed or was cancelled in any round is cancelled in the
   * rounds after it, so they do not wait for a vote that cannot come. That
   * may decide those rounds, and fail further voters: repeat until nothing
   * changes.
   */
  propagateExclusions(): void {
    for (let changed = true; changed; ) {
      changed = false;
      for (const name of this.names) {
        if (this.excluded.has(name)) continue;
        if (this.rounds.some((round) => isOut(round.resultOf(name)))) {
          this.exclude(name);
          changed = true;
        }
      }
    }
  }

  cancel(): void {
    this.end('cancelled', 'cancelled');
  }

  stop(): void {
    this.end('stopped', 'stopped');
  }

  /** A vote timed out: every undecided voter fails, and so does every later vote. */
  abort(): void {
    this.end('aborted', 'failed');
  }

  summary(): TransactionSummary {
    const voters: Record<string, VoterResult> = {};
    const voted: string[] = [];
    for (const { name } of this.voters) {
      voters[name] = this.outcomeOf(name);
      if (this.rounds.some((round) => round.hasVoted(name))) voted.push(name);
    }
    return { id: this.id, state: this.stateValue, subtransactions: this.rounds.length, voters, voted };
  }

  private outcomeOf(node: string): VoterResult {
    if (this.rounds.length === 0) return this.stateValue === 'cancelled' ? 'cancelled' : this.stateValue === 'stopped' ? 'stopped' : 'undecided';
    for (const round of this.rounds) {
      const result = round.resultOf(node);
      if (result !== 'committed') return result;
    }
    return 'committed';
  }

  private exclude(node: string): void {
    this.excluded.add(node);
    for (const round of this.rounds) round.withdraw(node);
  }

  private end(state: Exclude<TransactionState, 'open'>, result: 'cancelled' | 'stopped' | 'failed'): void {
    this.stateValue = state;
    for (const round of this.rounds) round.end(result);
  }
}

function isOut(result: VoterResult): boolean {
  return result === 'failed' || result === 'cancelled';
}

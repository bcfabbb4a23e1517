// Who votes in a transaction and how many votes make a quorum.
import { InvalidTransactionError } from './errors.js';

export interface Voter {
  /** The node's name in votes: its storage name. */
  name: string;
  /** Weight of the node's vote; 0 means it never sways the outcome. */
  votes: number;
}

export interface VotingPlan {
  voters: Voter[];
  threshold: number;
}

/**
 * Upstream's "primary plus a majority of the secondaries": the primary
 * weighs more than all secondaries together, so no quorum forms without it.
 * With two or more secondaries, half of them (rounded up) must agree with
 * it; with one or none, the primary alone decides.
 */
export function primaryQuorum(primary: string, secondaries: readonly string[]): VotingPlan {
  const count = secondaries.length;
  const voters: Voter[] = [{ name: primary, votes: count + 1 }, ...secondaries.map((name) => ({ name, votes: 1 }))];
  const threshold = count + 1 + (count > 1 ? Math.floor((count + 1) / 2) : 0);
  return { voters, threshold };
}

/**
 * A threshold must be reachable (at most the total weight) and must be more
 * than half the total weight, so two different outcomes can never both
 * reach it.
 */
export function validatePlan(plan: VotingPlan, maxVoters: number): void {
  if (plan.voters.length === 0) throw new InvalidTransactionError('no_voters', 'a transaction needs at least one voter');
  if (plan.voters.length > maxVoters) {
    throw new InvalidTransactionError('too_many_voters', `a transaction may have at most ${maxVoters} voters, got ${plan.voters.length}`);
  }
  const names = new Set<string>();
  let total = 0;
  for (const voter of plan.voters) {
    if (names.has(voter.name)) throw new InvalidTransactionError('duplicate_voter', `voter "${voter.name}" appears twice`);
    names.add(voter.name);
    if (!Number.isSafeInteger(voter.votes) || voter.votes < 0) {
      throw new InvalidTransactionError('invalid_votes', `voter "${voter.name}" has ${voter.votes} votes; expected a non-negative integer`);
    }
    total += voter.votes;
  }
  if (!Number.isSafeInteger(plan.threshold) || plan.threshold > total || plan.threshold * 2 <= total) {
    throw new InvalidTransactionError(
      'invalid_threshold',
      `threshold ${plan.threshold} must be more than half of the ${total} votes and at most all of them`,
    );
  }
}

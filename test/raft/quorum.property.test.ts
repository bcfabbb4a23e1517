import fc from 'fast-check';
import t from 'tap';
import { committedIndex, majority, voteResult } from '../../src/raft/core/index.js';

// Naive references: what a reader of the Raft paper would write.
function naiveCommitted(matches: number[]): number {
  let best = 0;
  for (const candidate of matches) {
    const holding = matches.filter((m) => m >= candidate).length;
    if (holding * 2 > matches.length) best = Math.max(best, candidate);
  }
  return best;
}

function naiveVote(voters: number, granted: number, rejected: number): 'won' | 'lost' | 'pending' {
  if (granted * 2 > voters) return 'won';
  if ((voters - rejected) * 2 > voters) return 'pending';
  return 'lost';
}

t.test('committedIndex equals the largest index held by a majority', (t) => {
  fc.assert(
    fc.property(fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 9 }), (matches) => {
      const voters = matches.map((_, i) => i + 1);
      return committedIndex(voters, (id) => matches[id - 1]!) === naiveCommitted(matches);
    }),
    { numRuns: 2000 },
  );
  t.end();
});

t.test('voteResult agrees with counting by hand', (t) => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom<boolean | undefined>(true, false, undefined), { minLength: 1, maxLength: 9 }), (ballots) => {
      const voters = ballots.map((_, i) => i + 1);
      const votes = new Map<number, boolean>();
      ballots.forEach((b, i) => b !== undefined && votes.set(i + 1, b));
      const granted = ballots.filter((b) => b === true).length;
      const rejected = ballots.filter((b) => b === false).length;
      return voteResult(voters, votes) === naiveVote(ballots.length, granted, rejected);
    }),
    { numRuns: 2000 },
  );
  t.end();
});

t.test('majority is more than half', (t) => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 1000 }), (n) => majority(n) * 2 > n && (majority(n) - 1) * 2 <= n));
  t.end();
});

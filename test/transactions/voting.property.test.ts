// Random vote orders, hashes, withdrawals and timeouts against the safety
// rules: a subtransaction never commits without the primary and a majority
// of the secondaries (upstream's threshold) agreeing, every COMMIT of one
// subtransaction is for one hash, and every vote is answered in the end.
// Replay a failure with SEED=<seed>.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import t from 'tap';
import { ManualVoteTimers, primaryQuorum, TransactionManager, type VoteOutcome } from '../../src/transactions/index.js';

const seed = process.env['SEED'] === undefined ? Date.now() ^ (process.pid << 8) : Number(process.env['SEED']);
t.comment(`seed ${seed} (replay with SEED=${seed})`);

const HASHES = ['a', 'b', 'c'].map((s) => createHash('sha1').update(s).digest());

type Step =
  | { kind: 'vote'; node: number; hash: number }
  | { kind: 'withdraw'; node: number }
  | { kind: 'tick'; ms: number }
  | { kind: 'stop' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ kind: fc.constant('vote' as const), node: fc.nat({ max: 5 }), hash: fc.nat({ max: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('withdraw' as const), node: fc.nat({ max: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 600 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'stop' as const }) },
);

interface Answer {
  node: string;
  round: number;
  hash: number;
  outcome: VoteOutcome | 'error';
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

t.test('no subtransaction commits without the primary and a majority of the secondaries', async (t) => {
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(fc.nat({ max: 4 }), fc.array(step, { maxLength: 60 }), async (secondaryCount, steps) => {
      runs++;
      const names = ['p', ...Array.from({ length: secondaryCount }, (_, i) => `s${i}`)];
      const plan = primaryQuorum('p', names.slice(1));
      const required = secondaryCount > 1 ? Math.ceil(secondaryCount / 2) : 0;
      const timers = new ManualVoteTimers();
      const manager = new TransactionManager({ timers, voteTimeoutMs: 1000, nextId: () => 7 });
      const id = manager.register(plan);
      const rounds = new Map<string, number>();
      const busy = new Set<string>();
      const answers: Answer[] = [];
      const pending: Array<Promise<void>> = [];
      for (const s of steps) {
        if (s.kind === 'tick') timers.advance(s.ms);
        else if (s.kind === 'stop') manager.stop(id);
        else if (s.kind === 'withdraw') {
          const node = names[s.node % names.length] as string;
          manager.cancelVoter(id, node);
        } else {
          const node = names[s.node % names.length] as string;
          if (busy.has(node)) continue;
          const round = rounds.get(node) ?? 0;
          rounds.set(node, round + 1);
          busy.add(node);
          pending.push(
            manager.vote(id, node, HASHES[s.hash] as Buffer).then(
              (outcome) => void answers.push({ node, round, hash: s.hash, outcome }),
              () => void answers.push({ node, round, hash: s.hash, outcome: 'error' }),
            ).finally(() => busy.delete(node)),
          );
        }
        await flush();
      }
      manager.cancel(id);
      await Promise.all(pending);
      if (answers.length !== pending.length) return false;
      const byRound = new Map<number, Answer[]>();
      for (const answer of answers) {
        if (answer.outcome !== 'commit') continue;
        byRound.set(answer.round, [...(byRound.get(answer.round) ?? []), answer]);
      }
      for (const commits of byRound.values()) {
        if (new Set(commits.map((c) => c.hash)).size !== 1) return false;
        const committers = new Set(commits.map((c) => c.node));
        if (!committers.has('p')) return false;
        if (committers.size - 1 < required) return false;
        const weight = plan.voters.filter((v) => committers.has(v.name)).reduce((sum, v) => sum + v.votes, 0);
        if (weight < plan.threshold) return false;
      }
      return true;
    }),
    { seed, numRuns: 400 },
  );
  t.equal(runs >= 400, true, `${runs} random transactions checked`);
});

t.test('when every voter agrees and nobody fails, everyone commits every subtransaction', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.nat({ max: 4 }), fc.integer({ min: 1, max: 4 }), fc.array(fc.nat(), { minLength: 40, maxLength: 40 }), async (secondaryCount, roundCount, order) => {
      const names = ['p', ...Array.from({ length: secondaryCount }, (_, i) => `s${i}`)];
      const manager = new TransactionManager({ timers: new ManualVoteTimers() });
      const id = manager.register(primaryQuorum('p', names.slice(1)));
      // Each node runs its rounds in sequence; the nodes interleave in a random order.
      const runNode = async (node: string, offset: number): Promise<VoteOutcome[]> => {
        const outcomes: VoteOutcome[] = [];
        for (let round = 0; round < roundCount; round++) {
          for (let i = 0; i < ((order[(offset + round) % order.length] ?? 0) % 3); i++) await flush();
          outcomes.push(await manager.vote(id, node, HASHES[round % HASHES.length] as Buffer));
        }
        return outcomes;
      };
      const results = await Promise.all(names.map((node, i) => runNode(node, i * 7)));
      return results.every((outcomes) => outcomes.every((o) => o === 'commit'));
    }),
    { seed, numRuns: 100 },
  );
  t.pass('all rounds committed everywhere');
});

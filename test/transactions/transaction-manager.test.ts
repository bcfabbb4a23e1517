// The voting engine on virtual time: quorum rules, early answers,
// exclusion of failed voters, stop, cancel, timeouts, bounds and metrics.
import { createHash } from 'node:crypto';
import { Registry } from 'prom-client';
import t from 'tap';
import {
  InvalidTransactionError,
  InvalidVoteError,
  ManualVoteTimers,
  primaryQuorum,
  TransactionCancelledError,
  TransactionLimitError,
  TransactionManager,
  TransactionMetrics,
  TransactionNotFoundError,
  type VoteOutcome,
} from '../../src/transactions/index.js';

const hash = (text: string): Buffer => createHash('sha1').update(text).digest();
const X = hash('x');
const Y = hash('y');
const Z = hash('z');

/** A vote whose answer (or error code) can be inspected without awaiting. */
function track(promise: Promise<VoteOutcome>): { readonly value: VoteOutcome | string | undefined; done: Promise<void> } {
  const state: { value: VoteOutcome | string | undefined; done: Promise<void> } = { value: undefined, done: Promise.resolve() };
  state.done = promise.then(
    (outcome) => void (state.value = outcome),
    (error: unknown) => void (state.value = (error as { code?: string }).code ?? String(error)),
  );
  return state;
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function setup(options: { timeoutMs?: number; maxTransactions?: number; maxSubtransactions?: number } = {}) {
  const timers = new ManualVoteTimers();
  let next = 1;
  const manager = new TransactionManager({
    timers,
    nextId: () => next++,
    voteTimeoutMs: options.timeoutMs ?? 1000,
    maxTransactions: options.maxTransactions,
    maxSubtransactions: options.maxSubtransactions,
  });
  return { timers, manager };
}

t.test('primaryQuorum matches upstream: the primary weighs more than all secondaries, and half of them (rounded up) must agree', async (t) => {
  t.same(primaryQuorum('p', []), { voters: [{ name: 'p', votes: 1 }], threshold: 1 });
  t.same(primaryQuorum('p', ['a']).threshold, 2);
  t.same(primaryQuorum('p', ['a', 'b']), { voters: [{ name: 'p', votes: 3 }, { name: 'a', votes: 1 }, { name: 'b', votes: 1 }], threshold: 4 });
  t.equal(primaryQuorum('p', ['a', 'b', 'c']).threshold, 6);
  t.equal(primaryQuorum('p', ['a', 'b', 'c', 'd']).threshold, 7);
});

t.test('registration refuses plans that allow two quorums or none', async (t) => {
  const { manager } = setup();
  t.throws(() => manager.register({ voters: [], threshold: 1 }), InvalidTransactionError);
  t.throws(() => manager.register({ voters: [{ name: 'a', votes: 1 }, { name: 'a', votes: 1 }], threshold: 2 }), { code: 'duplicate_voter' });
  t.throws(() => manager.register({ voters: [{ name: 'a', votes: 1 }, { name: 'b', votes: 1 }], threshold: 1 }), { code: 'invalid_threshold' });
  t.throws(() => manager.register({ voters: [{ name: 'a', votes: 1 }], threshold: 2 }), { code: 'invalid_threshold' });
  t.throws(() => manager.register({ voters: [{ name: 'a', votes: -1 }], threshold: 1 }), { code: 'invalid_votes' });
  t.throws(() => manager.register({ voters: Array.from({ length: 33 }, (_, i) => ({ name: `n${i}`, votes: 1 })), threshold: 33 }), { code: 'too_many_voters' });
  t.equal(manager.openCount, 0);
});

t.test('all agree: everyone commits, and the primary with one secondary is enough', async (t) => {
  const { manager } = setup();
  const id = manager.register(primaryQuorum('p', ['a', 'b']));
  const p = track(manager.vote(id, 'p', X, 'prepared'));
  await flush();
  t.equal(p.value, undefined, 'the primary alone does not decide');
  const a = track(manager.vote(id, 'a', X, 'prepared'));
  await flush();
  t.equal(p.value, 'commit');
  t.equal(a.value, 'commit');
  const b = track(manager.vote(id, 'b', X, 'prepared'));
  await flush();
  t.equal(b.value, 'commit', 'a late voter that agrees commits');
  t.match(manager.summary(id), { subtransactions: 1, voters: { p: 'committed', a: 'committed', b: 'committed' } });
});

t.test('secondaries alone never commit: without the primary there is no quorum', async (t) => {
  const { manager } = setup();
  const id = manager.register(primaryQuorum('p', ['a', 'b']));
  const a = track(manager.vote(id, 'a', Y));
  const b = track(manager.vote(id, 'b', Y));
  await flush();
  t.equal(a.value, undefined);
  const p = track(manager.vote(id, 'p', X));
  await flush();
  t.same([p.value, a.value, b.value], ['abort', 'abort', 'abort'], 'no hash reached the threshold: everyone fails');
});

t.test('a secondary that votes differently fails and is out for the rest of the transaction', async (t) => {
  const { manager } = setup();
  const id = manager.register(primaryQuorum('p', ['a', 'b']));
  const first = [track(manager.vote(id, 'p', X)), track(manager.vote(id, 'a', X)), track(manager.vote(id, 'b', Y))];
  await flush();
  t.same(first.map((v) => v.value), ['commit', 'commit', 'abort']);
  const again = track(manager.vote(id, 'b', X));
  await flush();
  t.equal(again.value, 'abort', 'its next vote fails without being counted');
  const second = [track(manager.vote(id, 'p', Z)), track(manager.vote(id, 'a', Z))];
  await flush();
  t.same(second.map((v) => v.value), ['commit', 'commit'], 'the second subtransaction does not wait for the excluded node');
  t.match(manager.summary(id), { subtransactions: 2, voters: { p: 'committed', a: 'committed', b: 'failed' } });
});

t.test('quorum impossible: every voter is answered at once, before the last one votes', async (t) => {
  const { manager } = setup();
  const id = manager.register(primaryQuorum('p', ['a', 'b', 'c', 'd']));
  const votes = [track(manager.vote(id, 'p', X)), track(manager.vote(id, 'a', Y)), track(manager.vote(id, 'b', Y))];
  await flush();
  t.same(votes.map((v) => v.value), [undefined, undefined, undefined], 'X can still reach 7 of 9');
  votes.push(track(manager.vote(id, 'c', Y)));
  await flush();
  t.same(votes.map((v) => v.value), ['abort', 'abort', 'abort', 'abort'], 'X has 5, one vote is missing: 7 is out of reach');
  const late = track(manager.vote(id, 'd', X));
  await flush();
  t.equal(late.value, 'abort');
});

t.test('a node failing in an earlier subtransaction unblocks a later one', async (t) => {
  const { manager } = setup();
  const id = manager.register(primaryQuorum('p', ['a', 'b']));
  await Promise.all([manager.vote(id, 'p', X), manager.vote(id, 'a', X)]);
  const second = [track(manager.vote(id, 'p', Y)), track(manager.vote(id, 'a', Z))];
  await flush();
  t.same(second.map((v) => v.value), [undefined, undefined], 'b may still side with the primary');
  const b = track(manager.vote(id, 'b', Z));
  await flush();
  t.equal(b.value, 'abort', 'b disagrees in the first subtransaction');
  t.same(second.map((v) => v.value), ['abort', 'abort'], 'without b the second subtransaction cannot reach quorum');
});

t.test('cancelVoter withdraws a node: its vote is CANCELLED and quorum is judged without it', async (t) => {
  const { manager } = setup();
  const id = manager.register(primaryQuorum('p', ['a', 'b']));
  const p = track(manager.vote(id, 'p', X));
  const a = track(manager.vote(id, 'a', Y));
  await flush();
  manager.cancelVoter(id, 'a');
  await flush();
  t.equal(a.value, 'cancelled');
  t.equal(p.value, undefined);
  const b = track(manager.vote(id, 'b', X));
  await flush();
  t.same([p.value, b.value], ['commit', 'commit']);
  manager.cancelVoter(id, 'b');
  t.match(manager.summary(id).voters, { p: 'committed', a: 'cancelled', b: 'committed' }, 'a decided voter keeps its result');
});

t.test('stop answers waiting and later voters STOP; stopping twice is fine', async (t) => {
  const { manager } = setup();
  const id = manager.register(primaryQuorum('p', ['a', 'b']));
  const p = track(manager.vote(id, 'p', X));
  await flush();
  manager.stop(id);
  manager.stop(id);
  const a = track(manager.vote(id, 'a', X));
  await flush();
  t.same([p.value, a.value], ['stop', 'stop']);
});

t.test('cancel: waiting and later votes are CANCELLED, unknown ids NOT_FOUND', async (t) => {
  const { manager } = setup();
  const id = manager.register(primaryQuorum('p', ['a', 'b']));
  const p = track(manager.vote(id, 'p', X));
  await flush();
  const summary = manager.cancel(id);
  await flush();
  t.equal(p.value, 'cancelled');
  t.match(summary, { state: 'cancelled', voters: { p: 'cancelled' }, voted: ['p'] });
  t.same(manager.cancel(id), summary, 'cancel is idempotent');
  await t.rejects(manager.vote(id, 'a', X), TransactionCancelledError);
  t.throws(() => manager.stop(id), TransactionCancelledError);
  await t.rejects(manager.vote(999, 'a', X), TransactionNotFoundError);
  t.throws(() => manager.cancel(999), TransactionNotFoundError);
  t.equal(manager.openCount, 0);
});

t.test('a vote timeout aborts the transaction: waiting and later voters get ABORT', async (t) => {
  const { manager, timers } = setup({ timeoutMs: 500 });
  const id = manager.register(primaryQuorum('p', ['a', 'b']));
  const p = track(manager.vote(id, 'p', X));
  timers.advance(499);
  await flush();
  t.equal(p.value, undefined);
  timers.advance(1);
  await flush();
  t.equal(p.value, 'abort');
  const a = track(manager.vote(id, 'a', X));
  await flush();
  t.equal(a.value, 'abort');
  t.equal(manager.summary(id).state, 'aborted');
  t.equal(timers.pendingCount, 0, 'no timer outlives its vote');
});

t.test('invalid votes and bounds', async (t) => {
  const { manager } = setup({ maxTransactions: 2, maxSubtransactions: 2 });
  const id = manager.register(primaryQuorum('p', []));
  await t.rejects(manager.vote(id, 'p', Buffer.alloc(19)), { code: 'invalid_hash' });
  await t.rejects(manager.vote(id, 'nobody', X), InvalidVoteError);
  t.equal(await manager.vote(id, 'p', X), 'commit');
  t.equal(await manager.vote(id, 'p', Y), 'commit');
  await t.rejects(manager.vote(id, 'p', Z), TransactionLimitError, 'a third subtransaction is past the bound');
  const other = manager.register(primaryQuorum('p', ['a']));
  t.throws(() => manager.register(primaryQuorum('p', [])), { code: 'too_many_transactions' });
  const pending = manager.vote(other, 'a', X);
  await t.rejects(manager.vote(other, 'a', X), { code: 'already_voted' }, 'one waiting vote per node');
  manager.cancel(other);
  await t.rejects(pending, TransactionCancelledError);
  t.ok(manager.register(primaryQuorum('p', [])) > 0, 'an ended transaction frees its slot');
});

t.test('metrics count actions with upstream names', async (t) => {
  const registry = new Registry();
  const metrics = new TransactionMetrics(registry);
  const timers = new ManualVoteTimers();
  const manager = new TransactionManager({ timers, metrics });
  const id = manager.register(primaryQuorum('p', ['a', 'b']));
  await Promise.all([manager.vote(id, 'p', X), manager.vote(id, 'a', X), manager.vote(id, 'b', Y)]);
  await t.rejects(manager.vote(12345, 'p', X));
  manager.stop(id);
  manager.cancel(id);
  const text = await registry.metrics();
  t.match(text, /gitaly_praefect_transactions_total\{action="registered"\} 3/);
  t.match(text, /gitaly_praefect_transactions_total\{action="started"\} 4/);
  t.match(text, /gitaly_praefect_transactions_total\{action="committed"\} 2/);
  t.match(text, /gitaly_praefect_transactions_total\{action="failed"\} 1/);
  t.match(text, /gitaly_praefect_transactions_total\{action="invalid"\} 1/);
  t.match(text, /gitaly_praefect_transactions_total\{action="stopped"\} 1/);
  t.match(text, /gitaly_praefect_transactions_delay_seconds_count\{action="vote"\} 3/);
  t.match(text, /gitaly_praefect_voters_per_transaction_total_count 1/);
  t.match(text, /gitaly_praefect_subtransactions_per_transaction_total_sum 1/);
});

t.test('withdrawEverywhere: a node the router lost leaves every transaction, and voters waiting on it are answered at once', async (t) => {
  const { manager } = setup();
  const one = manager.register(primaryQuorum('p', ['s1', 's2']));
  const two = manager.register(primaryQuorum('p', ['s1', 's3']));
  const other = manager.register(primaryQuorum('q', ['s4', 's5']));
  // p and s2 agree in `one`: with s1 gone nothing else is needed; in `two`, p waits for s1 or s3.
  const p1 = track(manager.vote(one, 'p', X));
  const p2 = track(manager.vote(two, 'p', X));
  await flush();
  t.equal(p1.value, undefined, 'waiting for a secondary');
  t.equal(manager.withdrawEverywhere('s1'), 2, 's1 left the two transactions it votes in');
  t.equal(manager.withdrawEverywhere('s1'), 2, 'idempotent');
  const s2 = track(manager.vote(one, 's2', X));
  await Promise.all([p1.done, s2.done]);
  t.same([p1.value, s2.value], ['commit', 'commit']);
  manager.withdrawEverywhere('s3');
  await p2.done;
  t.equal(p2.value, 'abort', 'with both secondaries gone no quorum can form: answered now, not at the vote timeout');
  t.same(manager.summary(other).voters, { q: 'undecided', s4: 'undecided', s5: 'undecided' }, 'other transactions are untouched');
});

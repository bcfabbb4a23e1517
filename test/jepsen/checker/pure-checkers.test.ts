import t from 'tap';
import { availability, raftInvariants, splitBrain, type RaftSample } from '../../../jepsen/checker/index.js';
import { history } from './history-builder.js';

t.test('splitBrain: one writing storage per (repository, generation)', async (t) => {
  const clean = splitBrain([
    { repository: 'r1', generation: 1, storage: 'g1' },
    { repository: 'r1', generation: 1, storage: 'g1' },
    { repository: 'r1', generation: 2, storage: 'g2' },
    { repository: 'r2', generation: 1, storage: 'g2' },
  ]);
  t.same(clean, { valid: true, violations: [], generations: 3 });
  const split = splitBrain([
    { repository: 'r1', generation: 1, storage: 'g2' },
    { repository: 7, generation: 1, storage: 'g1' },
    { repository: 'r1', generation: 1, storage: 'g1' },
    { repository: '7', generation: 1, storage: 'g3' },
  ]);
  t.equal(split.valid, false);
  t.same(split.violations, [{ repository: 'r1', generation: 1, storages: ['g1', 'g2'] }], 'repository 7 and "7" are different repositories');
});

const sample = (fields: Partial<RaftSample>): RaftSample => ({ router: 'a', term: 1, leader: 'a', commitIndex: 1, appliedIndex: 1, time: 0, ...fields });

t.test('raftInvariants: a healthy run passes', async (t) => {
  const result = raftInvariants([
    sample({ router: 'a', time: 1 }),
    sample({ router: 'b', leader: null, time: 1, commitIndex: 0, appliedIndex: 0 }),
    sample({ router: 'b', time: 2, commitIndex: 3, appliedIndex: 2, appliedDigest: 'd2' }),
    sample({ router: 'a', term: 2, leader: 'b', time: 3, commitIndex: 5, appliedIndex: 2, appliedDigest: 'd2' }),
  ]);
  t.same(result, { valid: true, violations: [], comparedDigestIndexes: 1 });
});

t.test('raftInvariants: two leaders in one term', async (t) => {
  const result = raftInvariants([sample({ router: 'a', leader: 'a' }), sample({ router: 'b', leader: 'b', time: 1 }), sample({ router: 'c', leader: 'a', time: 2 })]);
  t.equal(result.valid, false);
  t.match(result.violations, [{ kind: 'two-leaders', term: 1, leaders: ['a', 'b'] }]);
  t.equal(result.violations.length, 1);
});

t.test('raftInvariants: commit index falls within a boot (samples taken in time order, given in any)', async (t) => {
  const result = raftInvariants([sample({ time: 5, commitIndex: 4 }), sample({ time: 1, commitIndex: 2 }), sample({ time: 9, commitIndex: 3 })]);
  t.match(result.violations, [{ kind: 'commit-fell', router: 'a', before: { time: 5 }, after: { time: 9 } }]);
  const restarted = raftInvariants([sample({ time: 1, commitIndex: 9, boot: 1 }), sample({ time: 2, commitIndex: 0, boot: 2 })]);
  t.equal(restarted.valid, true, 'a restart may forget the volatile commit index');
});

t.test('raftInvariants: different digests at one applied index', async (t) => {
  const result = raftInvariants([
    sample({ router: 'a', appliedIndex: 4, appliedDigest: 'x' }),
    sample({ router: 'b', appliedIndex: 4, appliedDigest: 'x' }),
    sample({ router: 'c', appliedIndex: 4, appliedDigest: 'y' }),
    sample({ router: 'c', appliedIndex: 5, appliedDigest: 'z' }),
  ]);
  t.match(result.violations, [{ kind: 'digest-diverged', appliedIndex: 4, samples: [{ router: 'a' }, { router: 'c' }] }]);
  t.equal(result.violations.length, 1);
});

t.test('availability: time to the first ok op after the fault and after the heal', async (t) => {
  // Time is the op index (ms): the fault is active from 2 to 8.
  const h = history()
    .invoke(1, 'write', 1).ok(1) // 0-1: before the fault
    .invoke(1, 'write', 2) // 2: invoked under the fault
    .invoke(2, 'read') // 3
    .invoke('nemesis', 'heal').info('nemesis') // 4-5
    .fail(2) // 6: the read failed
    .invoke(2, 'read') // 7
    .ok(1) // 8: the write, invoked at 2, succeeds at 8
    .invoke(3, 'read') // 9: after the heal
    .ok(2, 2) // 10
    .ok(3, 2) // 11
    .ops;
  const [window] = availability(h, [{ start: 2, end: 8, name: 'partition' }]);
  t.same(window, { window: { start: 2, end: 8, name: 'partition' }, firstOkAfterStart: 6, firstOkAfterHeal: 3, invokedDuring: 3, okDuring: 2 });
  const reads = availability(h, [{ start: 2, end: 8 }], { fs: ['read'] });
  t.equal(reads[0]!.firstOkAfterStart, 8, 'only reads count: the read invoked at 3 failed; the one at 7 ended at 10');
  const never = availability(h, [{ start: 20, end: 30 }]);
  t.same([never[0]!.firstOkAfterStart, never[0]!.firstOkAfterHeal, never[0]!.invokedDuring], [null, null, 0]);
});

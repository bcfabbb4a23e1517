// The checks fed by the storage nodes' write logs (split-brain) and by the
// routers' state digests (Raft invariants), on hand-written inputs.
import t from 'tap';
import { parseWriteLog, raftInvariants, splitBrainFromWriteLogs, type RaftSample, type WriteLogLine } from '../../../jepsen/checker/index.js';

const line = (storage: string, repositoryId: number, generation: number, primary = true, router = 'praefect-1'): WriteLogLine => ({
  time: '2026-01-01T00:00:00.000Z',
  storage,
  relative_path: `@cluster/repositories/x/${repositoryId}`,
  method: '/gitaly.RepositoryService/WriteRef',
  repository_id: repositoryId,
  generation,
  primary,
  router,
});

t.test('splitBrainFromWriteLogs: one primary storage per generation passes', async (t) => {
  const result = splitBrainFromWriteLogs([
    line('gitaly-1', 1, 0),
    line('gitaly-1', 1, 0, true, 'praefect-2'), // the same storage twice (a retry through another router): one writer
    line('gitaly-2', 1, 0, false), // a transaction's secondary: not a primary
    line('gitaly-3', 1, 0, false),
    line('gitaly-1', 1, 1),
    line('gitaly-2', 1, 2), // failover: a new primary at a new generation
    line('gitaly-2', 2, 0), // another repository, same generation, another storage
  ]);
  t.ok(result.valid);
  t.same(result.violations, []);
  t.equal(result.generations, 4);
  t.equal(result.primaryLines, 5);
  t.equal(result.secondaryLines, 2);
});

t.test('splitBrainFromWriteLogs: two primaries of one generation fail, with their lines', async (t) => {
  const result = splitBrainFromWriteLogs([
    line('gitaly-1', 5, 3),
    line('gitaly-1', 5, 3),
    line('gitaly-3', 5, 3, true, 'praefect-2'),
    line('gitaly-2', 5, 3, false),
    line('gitaly-2', 6, 0),
    line('gitaly-1', 4, 1),
    line('gitaly-2', 4, 1),
  ]);
  t.notOk(result.valid);
  t.match(result.violations, [
    { repositoryId: 4, generation: 1, storages: ['gitaly-1', 'gitaly-2'] },
    { repositoryId: 5, generation: 3, storages: ['gitaly-1', 'gitaly-3'], lines: [{ storage: 'gitaly-1', router: 'praefect-1' }, { storage: 'gitaly-3', router: 'praefect-2' }] },
  ]);
  t.equal(result.violations[1]!.lines.length, 2, 'one line per storage, not every line');
  t.ok(splitBrainFromWriteLogs([]).valid, 'no lines, nothing to contradict');
});

t.test('parseWriteLog: lines with their source; a torn line is set aside, not fatal', async (t) => {
  const good = JSON.stringify(line('gitaly-1', 1, 0));
  const torn = good.slice(0, 30);
  const parsed = parseWriteLog(`${good}\n${torn}${good}\n\n{"storage":"x"}\n${good}\n${torn}`, 'gitaly-1');
  t.equal(parsed.lines.length, 2);
  t.equal(parsed.lines[0]!.source, 'gitaly-1');
  t.same(parsed.unreadable.map((u) => u.lineNumber), [2, 4, 6], 'the continued torn line, a line without the fields, the torn tail');
  t.same(parseWriteLog('').lines, []);
});

function sample(fields: Partial<RaftSample>): RaftSample {
  return { router: 'a', term: 1, leader: 'a', commitIndex: 5, appliedIndex: 5, time: 0, ...fields };
}

t.test('raftInvariants: digests compare at the index they were taken at', async (t) => {
  const agreeing = raftInvariants([
    sample({ router: 'a', appliedIndex: 9, digestIndex: 7, appliedDigest: 'd7' }),
    sample({ router: 'b', appliedIndex: 7, digestIndex: 7, appliedDigest: 'd7', time: 1 }),
    // Equal applied index, but the digests belong to different indexes: no comparison.
    sample({ router: 'c', appliedIndex: 9, digestIndex: 8, appliedDigest: 'd8', time: 2 }),
    sample({ router: 'a', appliedIndex: 9, appliedDigest: 'd9', time: 3 }),
    sample({ router: 'b', appliedIndex: 9, digestIndex: 9, appliedDigest: 'd9', time: 4 }),
  ]);
  t.ok(agreeing.valid, JSON.stringify(agreeing.violations));
  t.equal(agreeing.comparedDigestIndexes, 2, 'indexes 7 and 9 had two routers each; 8 had one');
  const diverged = raftInvariants([
    sample({ router: 'a', appliedIndex: 9, digestIndex: 7, appliedDigest: 'd7' }),
    sample({ router: 'b', appliedIndex: 7, digestIndex: 7, appliedDigest: 'other', time: 1 }),
    sample({ router: 'c', appliedIndex: 8, digestIndex: 7, appliedDigest: 'd7', time: 2 }),
    sample({ router: 'a', appliedIndex: 9, boot: 2, digestIndex: 7, appliedDigest: 'd7', time: 3 }),
  ]);
  t.notOk(diverged.valid);
  t.match(diverged.violations, [{ kind: 'digest-diverged', appliedIndex: 7, samples: [{ router: 'a', appliedDigest: 'd7' }, { router: 'b', appliedDigest: 'other' }] }]);
  t.equal(diverged.violations.length, 1);
  const acrossBoots = raftInvariants([
    sample({ router: 'a', boot: 1, digestIndex: 4, appliedDigest: 'x' }),
    sample({ router: 'a', boot: 2, digestIndex: 4, appliedDigest: 'y', time: 1 }),
  ]);
  t.match(acrossBoots.violations, [{ kind: 'digest-diverged', appliedIndex: 4 }], 'one router after a restart must re-apply to the same state');
});

t.test('splitBrainFromWriteLogs: a write the router did not acknowledge is no second primary', async (t) => {
  // A failover raced the write to gitaly-1: its bump was refused; gitaly-2, the new primary, took the generation.
  const result = splitBrainFromWriteLogs([
    { ...line('gitaly-1', 9, 4), write: 'w1', acknowledged: false },
    { ...line('gitaly-2', 9, 4), write: 'w2', acknowledged: true },
  ]);
  t.ok(result.valid);
  t.equal(result.unacknowledgedLines, 1);
  const both = splitBrainFromWriteLogs([
    { ...line('gitaly-1', 9, 4), write: 'w1', acknowledged: true },
    { ...line('gitaly-2', 9, 4), write: 'w2', acknowledged: true },
  ]);
  t.notOk(both.valid, 'two acknowledged primaries of one generation are a split brain');
});

import t from 'tap';
import { acknowledgedWrites } from '../../../jepsen/checker/index.js';
import { history } from './history-builder.js';

t.test('every acknowledged add in the final read is ok; info adds may or may not appear', async (t) => {
  const h = history()
    .invoke(1, 'add', 1, 'k').ok(1)
    .invoke(1, 'add', 2, 'k').ok(1)
    .invoke(2, 'add', 3, 'k').info(2)
    .invoke(3, 'add', 4, 'k').info(3)
    .invoke(1, 'read', null, 'k').ok(1, [2, 1, 3])
    .ops;
  const result = acknowledgedWrites(h);
  t.equal(result.verdict, 'ok');
  t.match(result.keys[0], { key: 'k', acknowledged: 2, attempted: 4, finalReads: 1, lost: [], stale: [], recovered: 1 });
});

t.test('a lost acknowledged add is illegal and names the final reads that lack it', async (t) => {
  const h = history()
    .invoke(1, 'add', 1, 'k').ok(1)
    .invoke(1, 'add', 2, 'k').ok(1)
    .invoke(1, 'read', null, 'k').ok(1, [1, 2])
    .invoke(2, 'read', null, 'k').ok(2, [1])
    .ops;
  const result = acknowledgedWrites(h);
  t.equal(result.verdict, 'illegal');
  const key = result.keys[0]!;
  t.equal(key.finalReads, 2);
  t.same(key.lost.map((l) => [l.id, l.missingFrom.map((r) => r.process)]), [[2, [2]]]);
});

t.test('losses on keys dataloss reported are classified separately and do not fail the check', async (t) => {
  const h = history()
    .invoke(1, 'add', 1, 'a').ok(1)
    .invoke(1, 'add', 2, 'b').ok(1)
    .invoke(1, 'read', null, 'a').ok(1, [])
    .invoke(1, 'read', null, 'b').ok(1, [2])
    .ops;
  const result = acknowledgedWrites(h, { datalossKeys: ['a'] });
  t.equal(result.verdict, 'ok');
  t.same(result.keys[0]!.reportedLost.map((l) => l.id), [1]);
  t.same(result.keys[0]!.lost, []);
  t.equal(acknowledgedWrites(h).verdict, 'illegal', 'unreported, the same loss fails');
});

t.test('stale: present at the end but missed by a read that started after the acknowledgement', async (t) => {
  const h = history()
    .invoke(1, 'add', 1, 'k').ok(1)
    .invoke(2, 'read', null, 'k').ok(2, [])
    .invoke(3, 'add', 2, 'k').invoke(2, 'read', null, 'k').ok(2, []).ok(3)
    .invoke(2, 'read', null, 'k').ok(2, [1, 2])
    .ops;
  const result = acknowledgedWrites(h);
  t.equal(result.verdict, 'ok', 'stale reads are reported, not a failure of this check');
  const stale = result.keys[0]!.stale;
  t.same(stale.map((s) => [s.id, s.staleReads]), [[1, 2]], 'add 2 was not yet acknowledged when the second read started');
  t.equal(stale[0]!.lastStaleRead.invoke.index, 5);
});

t.test('ids never added, and failed adds that appear, are illegal', async (t) => {
  const ghost = history().invoke(1, 'add', 1).ok(1).invoke(1, 'read').ok(1, [1, 9]).invoke(1, 'read').ok(1, [1, 9]).ops;
  const ghostResult = acknowledgedWrites(ghost);
  t.equal(ghostResult.verdict, 'illegal');
  t.same(ghostResult.keys[0]!.unexpected.map((u) => [u.id, u.read.invoke.index]), [[9, 2]], 'reported once, at its first read');
  const failed = history().invoke(1, 'add', 1).fail(1).invoke(1, 'read').ok(1, [1]).ops;
  const failedResult = acknowledgedWrites(failed);
  t.equal(failedResult.verdict, 'illegal');
  t.equal(failedResult.keys[0]!.failedButPresent[0]!.id, 1);
});

t.test('no final read after the last acknowledgement is unknown; f names are options', async (t) => {
  const h = history().invoke(1, 'read').ok(1, []).invoke(1, 'append', 'x').ok(1).ops;
  t.equal(acknowledgedWrites(h, { addF: 'append' }).verdict, 'unknown');
  const custom = history().invoke(1, 'append', { id: 'x' }).ok(1).invoke(1, 'list').ok(1, [{ id: 'x' }]).ops;
  t.equal(acknowledgedWrites(custom, { addF: 'append', readF: 'list' }).verdict, 'ok');
  t.equal(acknowledgedWrites(custom).keys.length, 0, 'ops with other f are ignored');
});

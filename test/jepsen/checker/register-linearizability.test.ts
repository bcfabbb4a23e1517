import t from 'tap';
import { checkLinearizability, clusterStateRegister, formatLinearizabilityReport, ModelOperationError, register } from '../../../jepsen/checker/index.js';
import { history } from './history-builder.js';

const reg = register();

t.test('sequential write then read of it is linearizable', async (t) => {
  const h = history().invoke(1, 'write', 1).ok(1).invoke(1, 'read').ok(1, 1).ops;
  const result = checkLinearizability(h, reg);
  t.equal(result.verdict, 'ok');
  t.equal(result.keys.length, 1);
  t.equal(result.keys[0]!.operations, 2);
});

t.test('stale read after an acknowledged write is illegal, and the explanation names the read', async (t) => {
  const h = history()
    .invoke(1, 'write', 1).ok(1)
    .invoke(1, 'write', 2).ok(1)
    .invoke(2, 'read').ok(2, 1)
    .ops;
  const result = checkLinearizability(h, reg);
  t.equal(result.verdict, 'illegal');
  const explanation = result.keys[0]!.explanation!;
  t.ok(explanation, 'illegal comes with an explanation');
  t.same(explanation.linearizedPrefix.map((o) => o.invoke.value), [1, 2]);
  t.equal(explanation.stateAfterPrefix, 2);
  t.equal(explanation.stuck.f, 'read');
  t.equal(explanation.stuck.completion!.value, 1);
  t.equal(
    formatLinearizabilityReport(result),
    [
      'linearizability: illegal (0/1 keys ok)',
      'key null: illegal, 3 ops, 2 states, ' + result.keys[0]!.elapsedMs.toFixed(0) + ' ms',
      '  linearized 2 ops:',
      '    p1 write 1 -> ok [0..1]',
      '    p1 write 2 -> ok [2..3]',
      '  state then: 2',
      '  cannot linearize: p2 read -> ok 1 [4..5]',
      '',
    ].join('\n'),
  );
});

t.test('concurrent writes: a read may see either order', async (t) => {
  for (const seen of [1, 2]) {
    const h = history()
      .invoke(1, 'write', 1)
      .invoke(2, 'write', 2)
      .ok(1)
      .ok(2)
      .invoke(3, 'read').ok(3, seen)
      .ops;
    t.equal(checkLinearizability(h, reg).verdict, 'ok', `final read ${seen}`);
  }
  const h = history()
    .invoke(1, 'write', 1).invoke(2, 'write', 2).ok(1).ok(2)
    .invoke(3, 'read').ok(3, 1)
    .invoke(3, 'read').ok(3, 2)
    .ops;
  t.equal(checkLinearizability(h, reg).verdict, 'illegal', 'but the order cannot flip between two later reads');
});

t.test('a read concurrent with a write may see the old or the new value', async (t) => {
  for (const seen of [null, 5]) {
    const h = history().invoke(1, 'write', 5).invoke(2, 'read').ok(2, seen).ok(1).ops;
    t.equal(checkLinearizability(h, reg).verdict, 'ok', `read ${String(seen)}`);
  }
  const flip = history().invoke(1, 'write', 5).invoke(2, 'read').ok(2, 5).invoke(2, 'read').ok(2, null).ok(1).ops;
  t.equal(checkLinearizability(flip, reg).verdict, 'illegal', 'new then old within one write is not');
});

t.test('a read that sees a value never written is illegal', async (t) => {
  const h = history().invoke(1, 'write', 1).ok(1).invoke(2, 'read').ok(2, 99).ops;
  const result = checkLinearizability(h, reg);
  t.equal(result.verdict, 'illegal');
  t.equal(result.keys[0]!.explanation!.stuck.completion!.value, 99);
});

t.test('the explanation lists the ops open alongside the stuck one', async (t) => {
  const h = history()
    .invoke(1, 'write', 1).ok(1)
    .invoke(2, 'cas', [5, 6])
    .invoke(3, 'read').ok(3, 3)
    .ok(2)
    .ops;
  const explanation = checkLinearizability(h, reg).keys[0]!.explanation!;
  t.same(explanation.linearizedPrefix.map((o) => o.f), ['write']);
  t.equal(explanation.stuck.f, 'read');
  t.same(explanation.candidates.map((o) => [o.f, o.invoke.value]), [['cas', [5, 6]]]);
  t.match(formatLinearizabilityReport(checkLinearizability(h, reg)), /open with it: p2 cas \[5,6\] -> ok \[2\.\.5\]/);
});

t.test('an info write may have taken effect', async (t) => {
  const h = history().invoke(1, 'write', 7).info(1).invoke(2, 'read').ok(2, 7).ops;
  t.equal(checkLinearizability(h, reg).verdict, 'ok');
});

t.test('an info write may not have taken effect', async (t) => {
  const h = history().invoke(1, 'write', 7).info(1).invoke(2, 'read').ok(2, null).ops;
  t.equal(checkLinearizability(h, reg).verdict, 'ok');
});

t.test('an info write may take effect long after its invocation, but only once', async (t) => {
  const later = history()
    .invoke(1, 'write', 7).info(1)
    .invoke(2, 'write', 8).ok(2)
    .invoke(2, 'read').ok(2, 8)
    .invoke(2, 'read').ok(2, 7)
    .ops;
  t.equal(checkLinearizability(later, reg).verdict, 'ok', 'it landed between the two reads');
  const twice = history()
    .invoke(1, 'write', 7).info(1)
    .invoke(2, 'read').ok(2, 7)
    .invoke(2, 'write', 8).ok(2)
    .invoke(2, 'read').ok(2, 7)
    .ops;
  t.equal(checkLinearizability(twice, reg).verdict, 'illegal', 'it cannot be seen both before and after write 8');
});

t.test('unobserved info writes are dropped before the search, but not those a cas depends on', async (t) => {
  const unobserved = history().invoke(1, 'write', 7).info(1).invoke(2, 'write', 8).info(2).invoke(3, 'read').ok(3, 8).ops;
  const result = checkLinearizability(unobserved, reg);
  t.equal(result.verdict, 'ok');
  t.equal(result.keys[0]!.operations, 2, 'write 7 is dropped; write 8 was read');
  const chained = history()
    .invoke(1, 'write', 1).info(1)
    .invoke(2, 'cas', [1, 2]).info(2)
    .invoke(3, 'read').ok(3, 2)
    .ops;
  t.equal(checkLinearizability(chained, reg).verdict, 'ok', 'the read sees the cas, which needed the write');
  t.equal(checkLinearizability(chained, reg).keys[0]!.operations, 3);
});

t.test('an info write cannot take effect before its invocation', async (t) => {
  const h = history().invoke(2, 'read').ok(2, 7).invoke(1, 'write', 7).info(1).ops;
  t.equal(checkLinearizability(h, reg).verdict, 'illegal');
});

t.test('an invocation the history never completed counts as info', async (t) => {
  const h = history().invoke(1, 'write', 7).invoke(2, 'read').ok(2, 7).ops;
  t.equal(checkLinearizability(h, reg).verdict, 'ok');
});

t.test('a fail op must not be applied', async (t) => {
  const h = history().invoke(1, 'write', 7).fail(1).invoke(2, 'read').ok(2, 7).ops;
  const result = checkLinearizability(h, reg);
  t.equal(result.verdict, 'illegal');
  t.equal(result.keys[0]!.operations, 1, 'the failed write is not searched');
  const unseen = history().invoke(1, 'write', 7).fail(1).invoke(2, 'read').ok(2, null).ops;
  t.equal(checkLinearizability(unseen, reg).verdict, 'ok');
});

t.test('cas succeeds only on the expected value', async (t) => {
  const good = history().invoke(1, 'write', 1).ok(1).invoke(1, 'cas', [1, 2]).ok(1).invoke(2, 'read').ok(2, 2).ops;
  t.equal(checkLinearizability(good, reg).verdict, 'ok');
  const bad = history().invoke(1, 'write', 1).ok(1).invoke(1, 'cas', [3, 2]).ok(1).ops;
  t.equal(checkLinearizability(bad, reg).verdict, 'illegal', 'an ok cas whose expected value was never there');
  const failed = history().invoke(1, 'write', 1).ok(1).invoke(1, 'cas', [3, 2]).fail(1).invoke(2, 'read').ok(2, 1).ops;
  t.equal(checkLinearizability(failed, reg).verdict, 'ok', 'a failed cas changes nothing');
  const unknown = history().invoke(1, 'write', 1).ok(1).invoke(1, 'cas', [1, 2]).info(1).invoke(2, 'read').ok(2, 2).invoke(2, 'read').ok(2, 2).ops;
  t.equal(checkLinearizability(unknown, reg).verdict, 'ok', 'an info cas that happened');
});

t.test('nemesis ops are ignored; unknown f is a typed error', async (t) => {
  const h = history().invoke('nemesis', 'start-partition').info('nemesis').invoke(1, 'write', 1).ok(1).ops;
  t.equal(checkLinearizability(h, reg).verdict, 'ok');
  t.throws(() => checkLinearizability(history().invoke(1, 'append', 1).ok(1).ops, reg), ModelOperationError);
});

t.test('cluster-state register: JSON-equal reads, failover values from completions, unknown failovers', async (t) => {
  const model = clusterStateRegister({ initial: { primary: 'g1', generation: 0 } });
  const ok = history()
    .invoke(1, 'read').ok(1, { generation: 0, primary: 'g1' })
    .invoke(2, 'failover').ok(2, { primary: 'g2', generation: 1 })
    .invoke(1, 'read').ok(1, { generation: 1, primary: 'g2' })
    .ops;
  t.equal(checkLinearizability(ok, model).verdict, 'ok', 'key order does not matter; the failover value comes from its completion');
  const back = history()
    .invoke(2, 'failover').ok(2, { primary: 'g2', generation: 1 })
    .invoke(1, 'read').ok(1, { primary: 'g1', generation: 0 })
    .ops;
  t.equal(checkLinearizability(back, model).verdict, 'illegal', 'a read after an acknowledged failover sees the old primary');
  const unknown = history()
    .invoke(2, 'failover').info(2)
    .invoke(1, 'read').ok(1, { primary: 'g3', generation: 1 })
    .invoke(1, 'read').ok(1, { primary: 'g3', generation: 1 })
    .ops;
  t.equal(checkLinearizability(unknown, model).verdict, 'ok', 'an unknown failover may have chosen anything');
  const unstable = history()
    .invoke(2, 'failover').info(2)
    .invoke(1, 'read').ok(1, { primary: 'g3', generation: 1 })
    .invoke(1, 'read').ok(1, { primary: 'g4', generation: 1 })
    .ops;
  t.equal(checkLinearizability(unstable, model).verdict, 'illegal', '...but only one thing');
  const write = history()
    .invoke(2, 'write', { primary: 'g2', generation: 5 }).ok(2)
    .invoke(1, 'read').ok(1, { primary: 'g2', generation: 5 })
    .ops;
  t.equal(checkLinearizability(write, model).verdict, 'ok', 'a write names its value');
});

t.test('a read the router marked stale is left out, not judged', async (t) => {
  const ops = history()
    .invoke(1, 'write', 1).ok(1)
    .invoke(1, 'write', 2).ok(1)
    .invoke(2, 'read').ok(2, 1)
    .ops;
  const last = ops[ops.length - 1]!;
  last.stale = true;
  const result = checkLinearizability(ops, reg);
  t.equal(result.verdict, 'ok', 'the old value came from a router without quorum, which said so');
  t.equal(result.staleReads, 1);
});

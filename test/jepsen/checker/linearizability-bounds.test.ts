import { performance } from 'node:perf_hooks';
import t from 'tap';
import { checkLinearizability, CheckerOptionError, register, type Key } from '../../../jepsen/checker/index.js';
import { history, type HistoryBuilder } from './history-builder.js';

const reg = register();

/** n concurrent writes of distinct values, then a read of a value none wrote: the search must try every order. */
function pathological(n: number, key?: Key, builder: HistoryBuilder = history()): HistoryBuilder {
  for (let p = 0; p < n; p++) builder.invoke(`${String(key)}-${p}`, 'write', p, key);
  for (let p = 0; p < n; p++) builder.ok(`${String(key)}-${p}`);
  return builder.invoke(`${String(key)}-r`, 'read', null, key).ok(`${String(key)}-r`, 'never-written');
}

t.test('keys are checked independently', async (t) => {
  const merged = history().invoke(1, 'write', 1, 'a').ok(1).invoke(2, 'read', null, 'b').ok(2, null).ops;
  t.equal(checkLinearizability(merged, reg).verdict, 'ok', 'a read of b does not see the write to a');
  const mixed = history()
    .invoke(1, 'write', 1, 'a').ok(1)
    .invoke(1, 'write', 2, 'b').ok(1)
    .invoke(2, 'read', null, 'a').ok(2, 1)
    .invoke(2, 'read', null, 'b').ok(2, 1)
    .invoke(2, 'read', null, 7).ok(2, null)
    .ops;
  const result = checkLinearizability(mixed, reg);
  t.equal(result.verdict, 'illegal');
  t.same(
    result.keys.map((k) => [k.key, k.verdict]),
    [
      ['a', 'ok'],
      ['b', 'illegal'],
      [7, 'ok'],
    ],
  );
  t.equal(result.keys[1]!.explanation!.stuck.key, 'b');
});

t.test('the state bound gives unknown quickly on a pathological history', async (t) => {
  const started = performance.now();
  const result = checkLinearizability(pathological(24).ops, reg, { maxStates: 20_000 });
  const elapsedMs = performance.now() - started;
  t.comment(`state bound hit after ${elapsedMs.toFixed(0)} ms, ${result.keys[0]!.states} states`);
  t.equal(result.verdict, 'unknown');
  t.equal(result.keys[0]!.unknownReason, 'state-limit');
  t.ok(elapsedMs < 10_000, 'well before any hang');
});

t.test('the time bound gives unknown on a pathological history', async (t) => {
  const result = checkLinearizability(pathological(24).ops, reg, { timeLimitMs: 150, maxStates: 1e9 });
  t.comment(`time bound hit after ${result.keys[0]!.elapsedMs.toFixed(0)} ms, ${result.keys[0]!.states} states`);
  t.equal(result.verdict, 'unknown');
  t.equal(result.keys[0]!.unknownReason, 'time-limit');
  t.ok(result.keys[0]!.elapsedMs < 10_000, 'the clock is checked while searching');
});

t.test('the memory bound gives unknown on a pathological history', async (t) => {
  const result = checkLinearizability(pathological(24).ops, reg, { maxCacheBytes: 1024 * 1024, maxStates: 1e9 });
  t.equal(result.verdict, 'unknown');
  t.equal(result.keys[0]!.unknownReason, 'memory-limit');
  t.ok(result.keys[0]!.states < 1024 * 1024 / 120, 'each configuration counts at least its overhead');
});

t.test('the total time bound covers all keys; one unknown key makes the result unknown, an illegal one illegal', async (t) => {
  const builder = pathological(24, 'x');
  pathological(24, 'y', builder);
  builder.invoke('z', 'write', 1, 'z').ok('z').invoke('z', 'read', null, 'z').ok('z', 1);
  const result = checkLinearizability(builder.ops, reg, { totalTimeLimitMs: 100, timeLimitMs: 60_000, maxStates: 1e9 });
  t.same(
    result.keys.map((k) => [k.key, k.verdict, k.unknownReason]),
    [
      ['x', 'unknown', 'total-time-limit'],
      ['y', 'unknown', 'total-time-limit'],
      ['z', 'unknown', 'total-time-limit'],
    ],
  );
  t.equal(result.verdict, 'unknown');
  builder.invoke('w', 'read', null, 'w').ok('w', 5);
  const withIllegal = checkLinearizability(builder.ops, reg, { maxStates: 1000 });
  t.equal(withIllegal.verdict, 'illegal', 'illegal outranks unknown');
  t.same(
    withIllegal.keys.map((k) => k.verdict),
    ['unknown', 'unknown', 'ok', 'illegal'],
  );
});

t.test('a small pathological history is decided exactly', async (t) => {
  const result = checkLinearizability(pathological(8).ops, reg);
  t.equal(result.verdict, 'illegal');
  t.equal(result.keys[0]!.explanation!.linearizedPrefix.length, 8, 'all writes linearize; the read cannot');
  t.equal(result.keys[0]!.explanation!.candidates.length, 0);
});

t.test('limits must be positive', async (t) => {
  t.throws(() => checkLinearizability([], reg, { maxStates: 0 }), CheckerOptionError);
  t.throws(() => checkLinearizability([], reg, { timeLimitMs: -1 }), { code: 'JEPSEN_BAD_CHECKER_OPTION', option: 'timeLimitMs' });
  t.same(checkLinearizability([], reg), { verdict: 'ok', keys: [], staleReads: 0 }, 'an empty history is linearizable');
});

import t from 'tap';
import { appendList, checkLinearizability, ModelOperationError, setModel } from '../../../jepsen/checker/index.js';
import { history } from './history-builder.js';

const list = appendList();
const set = setModel();

t.test('append-list: reads equal the appends linearized before them, in order', async (t) => {
  const h = history()
    .invoke(1, 'append', 'a').ok(1)
    .invoke(1, 'append', 'b').invoke(2, 'append', 'c').ok(1).ok(2)
    .invoke(3, 'read').ok(3, ['a', 'c', 'b'])
    .ops;
  t.equal(checkLinearizability(h, list).verdict, 'ok', 'concurrent appends in either order');
  const inOrder = history().invoke(1, 'append', 'a').ok(1).invoke(1, 'append', 'b').ok(1).invoke(3, 'read').ok(3, ['b', 'a']).ops;
  t.equal(checkLinearizability(inOrder, list).verdict, 'illegal', 'sequential appends cannot be read reordered');
  const lost = history().invoke(1, 'append', 'a').ok(1).invoke(1, 'append', 'b').ok(1).invoke(3, 'read').ok(3, ['a']).ops;
  const result = checkLinearizability(lost, list);
  t.equal(result.verdict, 'illegal', 'an acknowledged append missing from a later read');
  t.same(result.keys[0]!.explanation!.stateAfterPrefix, ['a', 'b']);
  const ghost = history().invoke(1, 'append', 'a').ok(1).invoke(3, 'read').ok(3, ['a', 'zz']).ops;
  t.equal(checkLinearizability(ghost, list).verdict, 'illegal', 'an id never appended');
});

t.test('append-list: info appends may land late, fail appends never', async (t) => {
  const late = history()
    .invoke(1, 'append', 'x').info(1)
    .invoke(2, 'append', 'y').ok(2)
    .invoke(3, 'read').ok(3, ['y'])
    .invoke(3, 'read').ok(3, ['y', 'x'])
    .ops;
  t.equal(checkLinearizability(late, list).verdict, 'ok');
  const failed = history().invoke(1, 'append', 'x').fail(1).invoke(3, 'read').ok(3, ['x']).ops;
  t.equal(checkLinearizability(failed, list).verdict, 'illegal');
  const readNull = history().invoke(3, 'read').ok(3, null).ops;
  t.equal(checkLinearizability(readNull, list).verdict, 'ok', 'a null read is the empty list');
  t.throws(() => checkLinearizability(history().invoke(3, 'read').ok(3, 'x').ops, list), ModelOperationError);
});

t.test('set: reads see all adds linearized before them, in any order', async (t) => {
  const h = history()
    .invoke(1, 'add', 1).ok(1)
    .invoke(2, 'add', 2).invoke(3, 'read').ok(3, [1]).ok(2)
    .invoke(3, 'read').ok(3, [2, 1])
    .ops;
  t.equal(checkLinearizability(h, set).verdict, 'ok');
  const lost = history().invoke(1, 'add', 1).ok(1).invoke(2, 'add', 2).ok(2).invoke(3, 'read').ok(3, [2]).ops;
  t.equal(checkLinearizability(lost, set).verdict, 'illegal');
  const flicker = history()
    .invoke(1, 'add', 1).invoke(3, 'read').ok(3, [1]).invoke(3, 'read').ok(3, []).ok(1)
    .ops;
  t.equal(checkLinearizability(flicker, set).verdict, 'illegal', 'an element cannot disappear');
  const objects = history().invoke(1, 'add', { a: 1, b: 2 }).ok(1).invoke(3, 'read').ok(3, [{ b: 2, a: 1 }]).ops;
  t.equal(checkLinearizability(objects, set).verdict, 'ok', 'elements compare as JSON values');
  const twice = history().invoke(1, 'add', 1).ok(1).invoke(1, 'add', 1).ok(1).invoke(3, 'read').ok(3, [1]).ops;
  t.equal(checkLinearizability(twice, set).verdict, 'ok', 'adding a member again changes nothing');
});

t.test('set: an info add may or may not have happened', async (t) => {
  for (const seen of [[], ['u']]) {
    const h = history().invoke(1, 'add', 'u').info(1).invoke(3, 'read').ok(3, seen).ops;
    t.equal(checkLinearizability(h, set).verdict, 'ok', JSON.stringify(seen));
  }
});

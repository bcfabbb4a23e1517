// The partition shapes as cut sets of directed links, for 3 and 5 nodes.
import t from 'tap';
import {
  bridgeCuts,
  bridgeShape,
  canonicalLinks,
  formatLink,
  groupsCuts,
  halves,
  halvesCuts,
  InvalidFaultError,
  isolateCuts,
  majoritiesRingCuts,
  oneWayCuts,
  type DirectedLink,
} from '../../../jepsen/net/index.js';

const three = ['a', 'b', 'c'];
const five = ['a', 'b', 'c', 'd', 'e'];

/** "a-b" is both directions, "a>b" one. */
function expected(...specs: string[]): string[] {
  const links: DirectedLink[] = [];
  for (const spec of specs) {
    const [from, to] = spec.split(/[->]/) as [string, string];
    links.push({ from, to });
    if (spec.includes('-')) links.push({ from: to, to: from });
  }
  return canonicalLinks(links).map(formatLink);
}

const show = (links: DirectedLink[]) => links.map(formatLink);

/** Who each node hears from (itself included), given a cut set. */
function heard(nodes: string[], cuts: DirectedLink[]): Map<string, string[]> {
  const cut = new Set(cuts.map(formatLink));
  return new Map(nodes.map((listener) => [listener, nodes.filter((s) => s === listener || !cut.has(`${s}->${listener}`))]));
}

t.test('halves', async (t) => {
  t.same(halves(three), [['a'], ['b', 'c']]);
  t.same(show(halvesCuts(three)), expected('a-b', 'a-c'));
  t.same(halves(five), [['a', 'b'], ['c', 'd', 'e']]);
  t.same(show(halvesCuts(five)), expected('a-c', 'a-d', 'a-e', 'b-c', 'b-d', 'b-e'));
});

t.test('isolate', async (t) => {
  t.same(show(isolateCuts('b', three)), expected('b-a', 'b-c'));
  t.same(show(isolateCuts('e', five)), expected('e-a', 'e-b', 'e-c', 'e-d'));
});

t.test('bridge', async (t) => {
  const s3 = bridgeShape(three);
  t.same(s3, { halfA: ['a'], halfB: ['c'], bridgeNode: 'b' });
  t.same(show(bridgeCuts(s3.halfA, s3.halfB, s3.bridgeNode)), expected('a-c'));
  const s5 = bridgeShape(five);
  t.same(s5, { halfA: ['a', 'b'], halfB: ['d', 'e'], bridgeNode: 'c' });
  const cuts = bridgeCuts(s5.halfA, s5.halfB, s5.bridgeNode);
  t.same(show(cuts), expected('a-d', 'a-e', 'b-d', 'b-e'));
  t.notOk(cuts.some((l) => l.from === 'c' || l.to === 'c'), 'the bridge node is cut from nobody');
  t.throws(() => bridgeCuts(['a', 'c'], ['d'], 'c'), InvalidFaultError);
});

t.test('majorities ring: 5 nodes, symmetric, each hears a different majority', async (t) => {
  const cuts = majoritiesRingCuts(five);
  t.same(show(cuts), expected('a-c', 'a-d', 'b-d', 'b-e', 'c-e'));
  const views = heard(five, cuts);
  t.same(views.get('a'), ['a', 'b', 'e']);
  const distinct = new Set([...views.values()].map((v) => v.join(',')));
  t.equal(distinct.size, 5, 'no two nodes see the same majority');
  for (const view of views.values()) t.equal(view.length, 3, 'each node hears a majority');
});

t.test('majorities ring: 3 nodes, a one-way ring', async (t) => {
  const cuts = majoritiesRingCuts(three);
  t.same(show(cuts), expected('c>a', 'a>b', 'b>c'));
  const views = heard(three, cuts);
  t.same([...views.values()].map((v) => v.length), [2, 2, 2]);
  t.equal(new Set([...views.values()].map((v) => v.join(','))).size, 3);
});

t.test('one-way and groups', async (t) => {
  t.same(show(oneWayCuts('a', 'b')), ['a->b']);
  t.throws(() => oneWayCuts('a', 'a'), InvalidFaultError);
  t.same(show(groupsCuts([['a'], ['b'], ['c']])), expected('a-b', 'a-c', 'b-c'));
  t.same(show(groupsCuts([['a', 'b'], ['c']])), expected('a-c', 'b-c'), 'nodes in one group keep talking');
  t.throws(() => groupsCuts([['a'], ['a', 'b']]), { code: 'NET_INVALID_FAULT' });
  t.throws(() => groupsCuts([[], ['a']]), InvalidFaultError);
  t.throws(() => halves(['a']), InvalidFaultError);
  t.throws(() => majoritiesRingCuts(['a', 'b']), InvalidFaultError);
});

import t from 'tap';
import { Harness } from './harness.js';

const ROUTERS = ['r1', 'r2', 'r3'];
const ORDER = ['g1', 'g2', 'g3'];

function setup(down: string[] = []): Harness {
  const h = new Harness();
  h.report(ROUTERS, ORDER, down);
  h.create(1, 'g1', ORDER, ['g2', 'g3']);
  return h;
}

const elect = (h: Harness, expectedPrimary: string | null, storageOrder = ORDER, router = 'r1') =>
  h.run(router, { type: 'elect-primary', repositoryId: 1, expectedPrimary, storageOrder });

t.test('a valid primary stays: one router thinking it down does not move it', async (t) => {
  const h = setup();
  h.run('r2', { type: 'health-update', reports: [{ virtualStorage: 'default', storage: 'g1', healthy: false }] });
  t.strictSame(elect(h, 'g1'), { status: 'ok', primary: 'g1', previous: 'g1', changed: false });
});

t.test('an unhealthy primary is replaced by the first healthy, latest, assigned storage in configuration order', async (t) => {
  const h = setup(['g1']);
  t.strictSame(elect(h, 'g1'), { status: 'ok', primary: 'g2', previous: 'g1', changed: true });
  t.equal(h.view.repository(1)!.primary, 'g2');
});

t.test('ties go to configuration order as the command gives it', async (t) => {
  const h = setup(['g1']);
  t.strictSame(elect(h, 'g1', ['g3', 'g2', 'g1']), { status: 'ok', primary: 'g3', previous: 'g1', changed: true });
});

t.test('candidates must be on the latest generation and assigned', async (t) => {
  const h = setup(['g1']);
  h.run('r1', { type: 'bump-generation', repositoryId: 1, primary: 'g1', generation: 0, intentId: null, updatedSecondaries: ['g3'] });
  t.strictSame(h.generations(1), { g1: 1, g2: 0, g3: 1 });
  t.strictSame(elect(h, 'g1'), { status: 'ok', primary: 'g3', previous: 'g1', changed: true }, 'g2 is outdated, so g3 wins despite the order');
  h.run('r1', { type: 'set-assignments', repositoryId: 1, assigned: ['g3', 'g2'] });
  h.run('r1', { type: 'accept-dataloss', repositoryId: 1, storage: 'g1' });
  h.report(ROUTERS, ORDER);
  t.strictSame(elect(h, 'g3'), { status: 'no-candidate', currentPrimary: 'g3' }, 'g1 alone is latest but unassigned: never elected');
  t.equal(h.view.availability(1), 'read-only');
});

t.test('no candidate leaves the primary as it was and says so', async (t) => {
  const h = setup(['g1', 'g2', 'g3']);
  t.strictSame(elect(h, 'g1'), { status: 'no-candidate', currentPrimary: 'g1' });
  t.equal(h.view.repository(1)!.primary, 'g1');
  t.strictSame(h.view.writeRoute(1, ORDER), { kind: 'unavailable', currentPrimary: 'g1', reason: 'no replica on the latest generation is healthy by quorum' });
});

t.test('an election is a compare-and-set on the previous primary: concurrent elections yield one primary', async (t) => {
  const h = setup(['g1']);
  // Two routers saw g1 fail and propose at once, with different preferences.
  const first = elect(h, 'g1', ['g2', 'g3'], 'r1');
  const second = elect(h, 'g1', ['g3', 'g2'], 'r2');
  t.strictSame(first, { status: 'ok', primary: 'g2', previous: 'g1', changed: true });
  t.strictSame(second, { status: 'conflict', reason: 'primary-changed', currentPrimary: 'g2' }, 'the second learns the winner');
  t.equal(h.view.repository(1)!.primary, 'g2');
  t.strictSame(elect(h, null), { status: 'conflict', reason: 'primary-changed', currentPrimary: 'g2' });
  t.strictSame(h.run('r1', { type: 'elect-primary', repositoryId: 2, expectedPrimary: null, storageOrder: [] }), { status: 'not-found', repositoryId: 2 });
});

t.test('a repository with no assignments elects among its replica holders', async (t) => {
  const h = new Harness();
  h.report(ROUTERS, ORDER, ['g1']);
  h.create(1, 'g1', [], ['g3']);
  t.strictSame(elect(h, 'g1'), { status: 'ok', primary: 'g3', previous: 'g1', changed: true }, 'g2 holds no replica');
});

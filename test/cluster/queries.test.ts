import t from 'tap';
import { Harness } from './harness.js';

const ROUTERS = ['r1', 'r2', 'r3'];
const ORDER = ['g1', 'g2', 'g3'];

/**
 * Four repositories:
 *   1: all in sync;
 *   2: g3 behind by one write (partially unavailable only);
 *   3: primary g1 outdated after accept-dataloss on g2 (listed by default);
 *   4: only g3 has it, and g3 is down (unavailable).
 */
function cluster(down: string[] = []): Harness {
  const h = new Harness();
  h.report(ROUTERS, ORDER, down);
  h.create(1, 'g1', ORDER, ['g2', 'g3']);
  h.create(2, 'g1', ORDER, ['g2', 'g3']);
  h.run('r1', { type: 'bump-generation', repositoryId: 2, primary: 'g1', generation: 0, intentId: null, updatedSecondaries: ['g2'] });
  h.create(3, 'g1', ORDER, ['g2']);
  h.run('r1', { type: 'accept-dataloss', repositoryId: 3, storage: 'g2' });
  h.create(4, 'g3', ['g3']);
  return h;
}

t.test('reads go to healthy replicas on the latest generation, the primary first', async (t) => {
  const h = cluster();
  t.strictSame(h.view.upToDateHealthyReplicas(1), ['g1', 'g2', 'g3']);
  t.strictSame(h.view.upToDateHealthyReplicas(2), ['g1', 'g2']);
  t.strictSame(h.view.upToDateHealthyReplicas(3), ['g2'], 'the outdated primary is not a read target');
  h.report(ROUTERS, ORDER, ['g1']);
  t.strictSame(h.view.upToDateHealthyReplicas(1), ['g2', 'g3']);
  t.strictSame(h.view.upToDateHealthyReplicas(99), []);
});

t.test('write routes: primary, election needed, read-only, unavailable', async (t) => {
  const h = cluster(['g3']);
  t.strictSame(h.view.writeRoute(1, ORDER), { kind: 'primary', primary: 'g1', generation: 0 });
  t.strictSame(h.view.writeRoute(3, ORDER), { kind: 'needs-election', currentPrimary: 'g1', candidates: ['g2'] });
  t.match(h.view.writeRoute(4, ORDER), { kind: 'unavailable', currentPrimary: 'g3' });
  t.equal(h.view.writeRoute(99), undefined);
  h.run('r1', { type: 'set-assignments', repositoryId: 3, assigned: ['g1', 'g3'] });
  t.match(h.view.writeRoute(3, ORDER), { kind: 'read-only', currentPrimary: 'g1' }, 'g2 holds the latest data but is unassigned');
  t.strictSame(h.view.availabilityCounts(), [{ virtualStorage: 'default', readOnly: 1, unavailable: 1 }]);
});

t.test('outdated replicas feed the reconciler', async (t) => {
  const h = cluster();
  t.strictSame([...h.view.repositoriesWithOutdatedReplicas()], [2, 3]);
  t.strictSame(h.view.outdatedReplicas(2), [{ storage: 'g3', generation: 0, latestGeneration: 1, healthy: true }]);
  t.strictSame(
    h.view.outdatedReplicas(3).map((r) => [r.storage, r.generation]),
    [
      ['g1', 0],
      ['g3', -1],
    ],
  );
});

t.test('dataloss lists repositories whose primary is outdated or that cannot be written, like upstream', async (t) => {
  const h = cluster(['g3']);
  const listed = h.view.dataloss();
  t.strictSame(
    listed.map((e) => [e.repositoryId, e.availability, e.primaryOutdated]),
    [
      [3, 'writable', true],
      [4, 'unavailable', false],
    ],
  );
  t.strictSame(listed[0]!.replicas, [
    { storage: 'g1', generation: 0, behindBy: 1, assigned: true, healthy: true, validPrimary: false },
    { storage: 'g2', generation: 1, behindBy: 0, assigned: true, healthy: true, validPrimary: true },
    { storage: 'g3', generation: -1, behindBy: 2, assigned: true, healthy: false, validPrimary: false },
  ]);
  t.strictSame(
    h.view.dataloss({ partiallyUnavailable: true }).map((e) => e.repositoryId),
    [1, 2, 3, 4],
    'with g3 down, every repository has an unavailable assigned replica',
  );
  h.report(ROUTERS, ORDER);
  t.strictSame(
    h.view.dataloss({ partiallyUnavailable: true }).map((e) => e.repositoryId),
    [2, 3],
    'with all healthy: only those with outdated replicas',
  );
  t.strictSame(h.view.dataloss({ virtualStorage: 'other' }), []);
});

t.test('router and storage status for operators', async (t) => {
  const h = cluster(['g3']);
  t.strictSame(
    h.view.storageHealth().map((s) => [s.storage, s.healthy, s.healthyVotes, s.activeRouters]),
    [
      ['g1', true, 3, 3],
      ['g2', true, 3, 3],
      ['g3', false, 0, 3],
    ],
  );
  const [r1] = h.view.routers();
  t.match(r1, { router: 'r1', active: true, views: [{ virtualStorage: 'default', storage: 'g1', healthy: true }] });
});

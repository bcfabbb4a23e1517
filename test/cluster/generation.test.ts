import t from 'tap';
import { Harness } from './harness.js';

const ROUTERS = ['r1', 'r2', 'r3'];
const ORDER = ['g1', 'g2', 'g3'];

function setup(): Harness {
  const h = new Harness();
  h.report(ROUTERS, ORDER);
  h.create(1, 'g1', ORDER, ['g2', 'g3']);
  return h;
}

const bump = (h: Harness, primary: string, generation: number, updatedSecondaries: string[] = [], intentId: string | null = null) =>
  h.run('r1', { type: 'bump-generation', repositoryId: 1, primary, generation, intentId, updatedSecondaries });
const setGeneration = (h: Harness, storage: string, generation: number, expectedGeneration: number | null = null) =>
  h.run('r1', { type: 'set-replica-generation', repositoryId: 1, storage, generation, expectedGeneration });

t.test('a bump moves the primary to g + 1; the others become outdated', async (t) => {
  const h = setup();
  t.strictSame(bump(h, 'g1', 0), { status: 'ok', generation: 1, bumpedSecondaries: [] });
  t.strictSame(h.generations(1), { g1: 1, g2: 0, g3: 0 });
  t.strictSame(h.view.outdatedReplicas(1).map((r) => r.storage), ['g2', 'g3']);
  t.strictSame(h.view.upToDateHealthyReplicas(1), ['g1']);
});

t.test('secondaries that took the same write move with the primary if they were level with it', async (t) => {
  const h = setup();
  bump(h, 'g1', 0, ['g2']);
  t.strictSame(bump(h, 'g1', 1, ['g2', 'g3']), { status: 'ok', generation: 2, bumpedSecondaries: ['g2'] }, 'g3 was behind, so it stays behind');
  t.strictSame(h.generations(1), { g1: 2, g2: 2, g3: 0 });
});

t.test('a bump is refused after a failover, with the current values', async (t) => {
  const h = setup();
  h.report(ROUTERS, ORDER, ['g1']);
  h.run('r1', { type: 'elect-primary', repositoryId: 1, expectedPrimary: 'g1', storageOrder: ORDER });
  t.strictSame(bump(h, 'g1', 0), { status: 'conflict', reason: 'primary-changed', currentPrimary: 'g2', currentGeneration: 0, latestGeneration: 0 });
  t.strictSame(bump(h, 'nowhere', 0), { status: 'conflict', reason: 'primary-changed', currentPrimary: 'g2', currentGeneration: 0, latestGeneration: 0 });
  t.strictSame(h.generations(1), { g1: 0, g2: 0, g3: 0 }, 'nothing moved');
});

t.test('concurrent writes routed with the same generation both count', async (t) => {
  const h = setup();
  t.strictSame(bump(h, 'g1', 0), { status: 'ok', generation: 1, bumpedSecondaries: [] });
  t.strictSame(bump(h, 'g1', 0), { status: 'ok', generation: 2, bumpedSecondaries: [] }, 'the second write landed on the same primary: g1 moves again');
});

t.test('a write routed before a failover and a fail-back is refused (no ABA)', async (t) => {
  const h = setup();
  // A write is routed to g1 at generation 0; then g1 fails, g2 takes writes, g1 is re-synced and is primary again.
  h.report(ROUTERS, ORDER, ['g1']);
  h.run('r1', { type: 'elect-primary', repositoryId: 1, expectedPrimary: 'g1', storageOrder: ORDER });
  bump(h, 'g2', 0);
  setGeneration(h, 'g1', 1, 0);
  h.report(ROUTERS, ORDER, ['g2']);
  h.run('r1', { type: 'elect-primary', repositoryId: 1, expectedPrimary: 'g2', storageOrder: ORDER });
  t.equal(h.view.repository(1)!.primary, 'g1');
  t.strictSame(bump(h, 'g1', 0), { status: 'conflict', reason: 'generation-changed', currentPrimary: 'g1', currentGeneration: 1, latestGeneration: 1 }, 'its data was replaced since');
  t.strictSame(bump(h, 'g1', 1), { status: 'ok', generation: 2, bumpedSecondaries: [] }, 'a write routed after the fail-back counts');
});

t.test('a primary replicated onto (its data replaced) refuses bumps of writes routed before', async (t) => {
  const h = setup();
  h.run('r1', { type: 'accept-dataloss', repositoryId: 1, storage: 'g2' });
  t.strictSame(bump(h, 'g1', 0), { status: 'conflict', reason: 'primary-outdated', currentPrimary: 'g1', currentGeneration: 0, latestGeneration: 1 });
  setGeneration(h, 'g1', 1, 0);
  t.strictSame(bump(h, 'g1', 0), { status: 'conflict', reason: 'generation-changed', currentPrimary: 'g1', currentGeneration: 1, latestGeneration: 1 });
});

t.test('set-replica-generation is a compare-and-set that never lowers and never passes the latest', async (t) => {
  const h = setup();
  bump(h, 'g1', 0);
  bump(h, 'g1', 1);
  t.strictSame(setGeneration(h, 'g2', 2, 0), { status: 'ok', generation: 2, changed: true });
  t.strictSame(setGeneration(h, 'g3', 1, 5), { status: 'conflict', reason: 'generation-changed', currentPrimary: 'g1', currentGeneration: 0, latestGeneration: 2 });
  t.strictSame(setGeneration(h, 'g2', 1), { status: 'conflict', reason: 'would-lower', currentPrimary: 'g1', currentGeneration: 2, latestGeneration: 2 });
  t.strictSame(setGeneration(h, 'g3', 3), { status: 'conflict', reason: 'beyond-latest', currentPrimary: 'g1', currentGeneration: 0, latestGeneration: 2 });
  t.strictSame(setGeneration(h, 'g2', 2, 2), { status: 'ok', generation: 2, changed: false });
  t.strictSame(setGeneration(h, 'g4', 2, -1), { status: 'ok', generation: 2, changed: true }, 'a storage with no replica yet starts from -1');
  t.strictSame(h.generations(1), { g1: 2, g2: 2, g3: 0, g4: 2 });
  t.strictSame(
    h.run('r1', { type: 'set-replica-generation', repositoryId: 1, storage: 'g5', generation: 9, expectedGeneration: -1 }),
    { status: 'conflict', reason: 'beyond-latest', currentPrimary: 'g1', currentGeneration: -1, latestGeneration: 2 },
  );
  t.equal(h.state.storages.lookup('g5'), undefined, 'a refused command interns nothing');
});

t.test('accept-dataloss makes one replica the only latest', async (t) => {
  const h = setup();
  bump(h, 'g1', 0);
  t.strictSame(h.run('r1', { type: 'accept-dataloss', repositoryId: 1, storage: 'g3' }), { status: 'ok', generation: 2 });
  t.strictSame(h.generations(1), { g1: 1, g2: 0, g3: 2 });
  t.strictSame(h.view.writeRoute(1, ORDER), { kind: 'needs-election', currentPrimary: 'g1', candidates: ['g3'] });
  t.strictSame(h.run('r1', { type: 'accept-dataloss', repositoryId: 1, storage: 'g9' }), {
    status: 'conflict',
    reason: 'no-replica',
    currentPrimary: 'g1',
    currentGeneration: -1,
    latestGeneration: 2,
  });
});

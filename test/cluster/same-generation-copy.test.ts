import t from 'tap';
import { Harness } from './harness.js';

// A replication onto a replica that is already on the source's generation
// raises nothing but replaces the replica's data, erasing any write in flight
// that had landed on it. Hand-written from the property test's seeds 3 and
// 1839560638, where such a copy onto the primary let the write's bump through
// and an acknowledged write was missing on the latest generation.
const ROUTERS = ['r1', 'r2', 'r3'];
const ORDER = ['g1', 'g2', 'g3'];

const recordIntent = (h: Harness, intentId: string, primary: string, generation: number) =>
  h.run('r2', { type: 'record-write-intent', repositoryId: 1, intentId, primary, generation });
const bump = (h: Harness, intentId: string, primary: string, generation: number, updatedSecondaries: string[] = []) =>
  h.run('r2', { type: 'bump-generation', repositoryId: 1, primary, generation, intentId, updatedSecondaries });
const replicate = (h: Harness, storage: string, generation: number, expectedGeneration: number) =>
  h.run('r3', { type: 'set-replica-generation', repositoryId: 1, storage, generation, expectedGeneration });

/** Seed 1839560638, shrunk: a repository without assignments, its primary g2 and a copy of it on g1, both on generation 0. */
function unassignedRepository(): Harness {
  const h = new Harness();
  h.report(ROUTERS, ORDER);
  h.create(1, 'g2', []);
  return h;
}

t.test('a copy onto the primary at its own generation voids the writes in flight on it', async (t) => {
  const h = unassignedRepository();
  t.strictSame(recordIntent(h, 'w1', 'g2', 0), { status: 'ok' }, 'w1 is routed to g2 at generation 0');
  t.strictSame(replicate(h, 'g1', 0, -1), { status: 'ok', generation: 0, changed: true }, 'g1 copies g2 before w1 lands');
  // w1 lands on g2; then a job copies g1 (generation 0, without w1) onto g2, also on generation 0.
  t.strictSame(replicate(h, 'g2', 0, 0), { status: 'ok', generation: 1, changed: true }, 'the primary becomes the only latest');
  t.strictSame(h.generations(1), { g2: 1, g1: 0 });
  t.strictSame(bump(h, 'w1', 'g2', 0), { status: 'conflict', reason: 'generation-changed', currentPrimary: 'g2', currentGeneration: 1, latestGeneration: 1 }, 'w1 was erased on g2: it is not acknowledged');
  t.strictSame(h.view.outdatedReplicas(1).map((r) => r.storage), ['g1'], 'g1 is re-synced from the primary');
  t.strictSame(h.view.writeRoute(1, ORDER), { kind: 'primary', primary: 'g2', generation: 1 });
  t.strictSame(recordIntent(h, 'w2', 'g2', 1), { status: 'ok' }, 'writes routed after the copy are taken');
  t.strictSame(bump(h, 'w2', 'g2', 1), { status: 'ok', generation: 2, bumpedSecondaries: [] }, 'and acknowledged');
});

t.test('seed 3, shrunk: the primary and an unassigned copy on the latest generation, the copy replicated onto the primary', async (t) => {
  const h = new Harness();
  h.report(ROUTERS, [...ORDER, 'g4']);
  h.create(1, 'g1', ORDER);
  h.run('r1', { type: 'accept-dataloss', repositoryId: 1, storage: 'g1' });
  recordIntent(h, 'w2', 'g1', 1);
  replicate(h, 'g4', 1, -1);
  h.run('r1', { type: 'set-assignments', repositoryId: 1, assigned: [] });
  h.report(ROUTERS, [...ORDER, 'g4'], ['g1']);
  // w2 lands on g1, then g4 (generation 1, without w2) is copied onto g1.
  t.strictSame(replicate(h, 'g1', 1, 1), { status: 'ok', generation: 2, changed: true });
  t.match(bump(h, 'w2', 'g1', 1), { status: 'conflict', reason: 'generation-changed' }, 'w2 is not acknowledged');
  t.strictSame(h.generations(1), { g1: 2, g4: 1 });
});

t.test('a copy onto a secondary of a reference transaction keeps the bump from carrying it along', async (t) => {
  const h = new Harness();
  h.report(ROUTERS, ORDER);
  h.create(1, 'g1', ORDER, ['g2', 'g3']);
  recordIntent(h, 'w1', 'g1', 0);
  // w1 lands on g1 and g2 (a reference transaction); then g3 (without w1) is copied onto g2.
  t.strictSame(replicate(h, 'g2', 0, 0), { status: 'ok', generation: 0, changed: false }, 'g2 itself stays on generation 0');
  t.strictSame(h.generations(1), { g1: 1, g2: 0, g3: 0 }, 'the primary, which kept w1, is the only latest');
  t.strictSame(bump(h, 'w1', 'g1', 0, ['g2']), { status: 'ok', generation: 2, bumpedSecondaries: [] }, 'w1 counts on g1, and g2 (which lost it) stays behind');
  t.strictSame(h.view.outdatedReplicas(1).map((r) => r.storage), ['g2', 'g3']);
});

t.test('with no write in flight, a copy at the same generation changes nothing', async (t) => {
  const h = new Harness();
  h.report(ROUTERS, ORDER);
  h.create(1, 'g1', ORDER, ['g2', 'g3']);
  t.strictSame(replicate(h, 'g1', 0, 0), { status: 'ok', generation: 0, changed: false });
  t.strictSame(replicate(h, 'g2', 0, 0), { status: 'ok', generation: 0, changed: false });
  t.strictSame(h.generations(1), { g1: 0, g2: 0, g3: 0 });
  t.equal(h.state.repository(1)!.primaryBase, 0);
});

t.test('a copy at the same generation onto a replica behind the latest changes nothing: no bump can raise it', async (t) => {
  const h = new Harness();
  h.report(ROUTERS, ORDER);
  h.create(1, 'g1', ORDER, ['g2', 'g3']);
  bump(h, 'w0', 'g1', 0);
  recordIntent(h, 'w1', 'g1', 1);
  t.strictSame(replicate(h, 'g2', 0, 0), { status: 'ok', generation: 0, changed: false });
  t.strictSame(h.generations(1), { g1: 1, g2: 0, g3: 0 });
  t.strictSame(bump(h, 'w1', 'g1', 1, ['g2']), { status: 'ok', generation: 2, bumpedSecondaries: [] });
});

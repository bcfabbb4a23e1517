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

const record = (h: Harness, intentId: string, primary = 'g1', generation = 0) =>
  h.run('r2', { type: 'record-write-intent', repositoryId: 1, intentId, primary, generation });
const resolve = (h: Harness, intentId: string) => h.run('r1', { type: 'resolve-write-intent', repositoryId: 1, intentId });

t.test('an intent is recorded against the current primary and generation, and its bump clears it', async (t) => {
  const h = setup();
  t.strictSame(record(h, 'w1'), { status: 'ok' });
  t.strictSame(record(h, 'w1'), { status: 'ok' }, 'a retried proposal is a no-op');
  t.strictSame(h.view.repository(1)!.writeIntents, [{ intentId: 'w1', router: 'r2', storage: 'g1', generation: 0, recordedAtMs: h.view.clusterTimeMs() }]);
  h.run('r2', { type: 'bump-generation', repositoryId: 1, primary: 'g1', generation: 0, intentId: 'w1', updatedSecondaries: [] });
  t.strictSame(h.view.repository(1)!.writeIntents, []);
  t.equal(h.state.repository(1)!.intents, undefined, 'no empty list is kept');
});

t.test('recording is refused when the routing is stale, before anything is forwarded', async (t) => {
  const h = setup();
  t.strictSame(record(h, 'w1', 'g2'), { status: 'conflict', reason: 'primary-changed', currentPrimary: 'g1', currentGeneration: 0, latestGeneration: 0 });
  h.run('r2', { type: 'bump-generation', repositoryId: 1, primary: 'g1', generation: 0, intentId: null, updatedSecondaries: [] });
  t.strictSame(record(h, 'w1', 'g1', 0), { status: 'conflict', reason: 'generation-changed', currentPrimary: 'g1', currentGeneration: 1, latestGeneration: 1 });
  h.run('r1', { type: 'accept-dataloss', repositoryId: 1, storage: 'g2' });
  t.strictSame(record(h, 'w1', 'g1', 1), { status: 'conflict', reason: 'primary-outdated', currentPrimary: 'g1', currentGeneration: 1, latestGeneration: 2 });
});

t.test('a stale intent shows after its age, and resolving it makes the primary authoritative', async (t) => {
  const h = setup();
  record(h, 'w1');
  h.advance(30_000);
  h.report(ROUTERS, ORDER);
  t.strictSame(h.view.staleWriteIntents(60_000), []);
  const [stale] = h.view.staleWriteIntents(20_000);
  t.match(stale, { repositoryId: 1, intentId: 'w1', router: 'r2', storage: 'g1', generation: 0, ageMs: 30_000 });
  // The router died between the primary's commit and the bump: g1 may hold a write the others lack.
  t.strictSame(resolve(h, 'w1'), { status: 'ok', authoritative: 'g1', generation: 1 });
  t.strictSame(h.generations(1), { g1: 1, g2: 0, g3: 0 }, 'the others are outdated, so they are re-synced from g1');
  t.strictSame(h.view.staleWriteIntents(0), []);
  t.strictSame(resolve(h, 'w1'), { status: 'not-found', repositoryId: 1, intentId: 'w1' });
});

t.test('after a failover away from a dead primary, resolving makes the new primary the only latest so the old one is re-synced', async (t) => {
  const h = setup();
  record(h, 'w1');
  h.report(ROUTERS, ORDER, ['g1']);
  h.run('r1', { type: 'elect-primary', repositoryId: 1, expectedPrimary: 'g1', storageOrder: ORDER });
  const refused = h.run('r2', { type: 'bump-generation', repositoryId: 1, primary: 'g1', generation: 0, intentId: 'w1', updatedSecondaries: [] });
  t.equal(refused.status, 'conflict');
  t.equal(h.view.repository(1)!.writeIntents.length, 1, 'a refused bump keeps its intent');
  t.strictSame(resolve(h, 'w1'), { status: 'ok', authoritative: 'g2', generation: 1 });
  t.strictSame(h.generations(1), { g1: 0, g2: 1, g3: 0 }, 'g1 no longer looks up to date with a write nobody acknowledged');
});

t.test('a dead primary whose write failed: a healthy up-to-date secondary becomes the only latest, so failover stays possible', async (t) => {
  const h = setup();
  record(h, 'w1');
  h.report(ROUTERS, ORDER, ['g1']);
  t.strictSame(resolve(h, 'w1'), { status: 'ok', authoritative: 'g2', generation: 1 });
  t.strictSame(h.generations(1), { g1: 0, g2: 1, g3: 0 });
  t.match(h.run('r1', { type: 'elect-primary', repositoryId: 1, expectedPrimary: 'g1', storageOrder: ORDER }), { status: 'ok', primary: 'g2' });
});

t.test('a dead written storage that is the only up-to-date replica stays the only one', async (t) => {
  const h = setup();
  h.run('r1', { type: 'accept-dataloss', repositoryId: 1, storage: 'g1' });
  t.strictSame(record(h, 'w1', 'g1', 1), { status: 'ok' });
  h.report(ROUTERS, ORDER, ['g1']);
  t.strictSame(resolve(h, 'w1'), { status: 'ok', authoritative: 'g1', generation: 2 });
  t.strictSame(h.generations(1), { g1: 2, g2: 0, g3: 0 }, 'it holds every acknowledged write: it stays the only latest');
});

t.test('an intent on a storage already outdated needs nothing more', async (t) => {
  const h = setup();
  record(h, 'w1');
  h.run('r1', { type: 'accept-dataloss', repositoryId: 1, storage: 'g3' });
  t.strictSame(resolve(h, 'w1'), { status: 'ok', authoritative: null, generation: null });
  t.strictSame(h.generations(1), { g1: 0, g2: 0, g3: 1 });
});

t.test('a repository holds a bounded number of intents', async (t) => {
  const h = setup();
  for (let i = 0; i < 1024; i++) h.state.repository(1)!.intents = [...(h.state.repository(1)!.intents ?? []), { intentId: `w${i}`, router: 'r', storage: 0, generation: 0, recordedAtMs: 0 }];
  t.match(record(h, 'one-more'), { status: 'conflict', reason: 'too-many-intents' });
});

import t from 'tap';
import { Harness } from './harness.js';

const ROUTERS = ['r1', 'r2', 'r3'];
const STORAGES = ['g1', 'g2', 'g3'];

t.test('a storage is healthy when a strict majority of active routers see it healthy', async (t) => {
  const h = new Harness();
  h.report(['r1', 'r2'], STORAGES);
  h.report(['r3'], STORAGES, ['g1', 'g2']);
  h.run('r2', { type: 'health-update', reports: [{ virtualStorage: 'default', storage: 'g2', healthy: false }] });
  t.ok(h.view.isHealthy('default', 'g1'), 'g1: 2 of 3 see it healthy');
  t.notOk(h.view.isHealthy('default', 'g2'), 'g2: 1 of 3 is not a majority');
  t.ok(h.view.isHealthy('default', 'g3'));
  t.notOk(h.view.isHealthy('other', 'g1'), 'storages are per virtual storage');
  const g2 = h.view.storageHealth().find((s) => s.storage === 'g2')!;
  t.strictSame({ votes: g2.healthyVotes, active: g2.activeRouters }, { votes: 1, active: 3 });
});

t.test('only routers that refreshed within the activity window count; none active means nothing is healthy', async (t) => {
  const h = new Harness();
  h.report(ROUTERS, STORAGES);
  h.report(['r2'], STORAGES, ['g1']);
  t.ok(h.view.isHealthy('default', 'g1'), 'r1 and r3 outvote r2');
  // r3 falls silent; r1 and r2 keep refreshing past the 10 s window.
  for (let s = 0; s < 11; s++) {
    h.advance(1_000);
    h.run('r1', { type: 'liveness-refresh' });
    h.run('r2', { type: 'liveness-refresh' });
  }
  t.strictSame(
    h.view.routers().map((r) => [r.router, r.active]),
    [
      ['r1', true],
      ['r2', true],
      ['r3', false],
    ],
  );
  t.notOk(h.view.isHealthy('default', 'g1'), 'r3 no longer counts: 1 of 2 active is no majority');
  t.ok(h.view.isHealthy('default', 'g2'));
  // r2 and r3 leave the cluster for good.
  h.run('r1', { type: 'forget-router', target: 'r2' });
  h.run('r1', { type: 'forget-router', target: 'r3' });
  t.ok(h.view.isHealthy('default', 'g1'), 'r1 alone is active, and it sees g1 healthy');
  h.run('r1', { type: 'forget-router', target: 'r1' });
  t.notOk(h.view.isHealthy('default', 'g1'), 'no active router: nothing is healthy');
});

t.test('a view change restarts its since; a repeated report does not', async (t) => {
  const h = new Harness();
  h.report(['r1'], ['g1']);
  const first = h.view.routers()[0]!.views[0]!.sinceMs;
  h.advance(5_000);
  h.report(['r1'], ['g1']);
  t.equal(h.view.routers()[0]!.views[0]!.sinceMs, first);
  h.advance(5_000);
  h.report(['r1'], ['g1'], ['g1']);
  t.equal(h.view.routers()[0]!.views[0]!.sinceMs, h.view.clusterTimeMs());
  t.ok(h.view.clusterTimeMs() > first);
});

t.test('cluster time follows what a majority of routers reached, never goes back, and cancels a skew seen at join', async (t) => {
  const h = new Harness();
  h.run('r1', { type: 'liveness-refresh' }, 100_000);
  t.equal(h.view.clusterTimeMs(), 100_000, 'the first router sets the epoch');
  h.run('r2', { type: 'liveness-refresh' }, 500_000);
  h.run('r3', { type: 'liveness-refresh' }, 40_000);
  t.equal(h.view.clusterTimeMs(), 100_000, 'routers joining with skewed clocks are measured against cluster time, not believed');
  h.run('r1', { type: 'liveness-refresh' }, 95_000);
  t.equal(h.view.clusterTimeMs(), 100_000, 'a stamp from the past cannot move it back');
  h.run('r1', { type: 'liveness-refresh' }, 108_000);
  t.equal(h.view.clusterTimeMs(), 100_000, 'one router of three cannot move it alone');
  h.run('r3', { type: 'liveness-refresh' }, 45_000);
  t.equal(h.view.clusterTimeMs(), 105_000, 'two of three can: r3 (5 s later on its own clock) and r1 both reached 105 s');
  h.run('r2', { type: 'liveness-refresh' }, 508_000);
  t.equal(h.view.clusterTimeMs(), 108_000);
});

/** The routers refresh every second for `seconds`; `skewMs` shifts a router's clock from true time (h.nowMs). */
function refreshFor(h: Harness, seconds: number, skewMs: Record<string, number>, routers = ROUTERS): void {
  for (let s = 0; s < seconds; s++) {
    h.advance(1_000);
    for (const router of routers) h.run(router, { type: 'liveness-refresh' }, h.nowMs + (skewMs[router] ?? 0));
  }
}

function active(h: Harness, router: string): boolean {
  return h.view.routers().find((r) => r.router === router)!.active;
}

const HOUR = 3_600_000;

for (const skew of [HOUR, -HOUR]) {
  for (const when of ['from the start', 'after a clock step'] as const) {
    const label = `a router whose clock runs an hour ${skew > 0 ? 'ahead' : 'behind'} (${when})`;
    t.test(`${label} makes no router look active or inactive wrongly`, async (t) => {
      const h = new Harness();
      const skewed = { r3: skew };
      for (const router of ROUTERS) {
        const stamp = h.nowMs + (when === 'from the start' ? (skewed[router as 'r3'] ?? 0) : 0);
        h.run(router, { type: 'health-update', reports: STORAGES.map((storage) => ({ virtualStorage: 'default', storage, healthy: true })) }, stamp);
      }
      const startMs = h.view.clusterTimeMs();
      const trueStartMs = h.nowMs;
      refreshFor(h, 30, skewed);
      const drift = () => h.view.clusterTimeMs() - startMs - (h.nowMs - trueStartMs);
      t.ok(Math.abs(drift()) <= 1_000, `cluster time advanced as true time did (drift ${drift()} ms)`);
      t.ok(ROUTERS.every((r) => active(h, r)), 'all three are active while they refresh, the skewed one too');

      // r1 dies: it must turn inactive after the 10 s window, no sooner and no later.
      refreshFor(h, 9, skewed, ['r2', 'r3']);
      t.ok(active(h, 'r1'), 'r1 is still within its window 9 s after its last refresh');
      refreshFor(h, 3, skewed, ['r2', 'r3']);
      t.notOk(active(h, 'r1'), 'r1 is inactive 12 s after its last refresh');
      t.ok(active(h, 'r2') && active(h, 'r3'), 'r2 and the skewed r3 stay active');

      // r1 comes back; now the skewed router dies.
      refreshFor(h, 1, skewed, ['r1', 'r2', 'r3']);
      refreshFor(h, 9, skewed, ['r1', 'r2']);
      t.ok(active(h, 'r3'), 'the skewed r3 is still within its window 9 s after its last refresh');
      refreshFor(h, 3, skewed, ['r1', 'r2']);
      t.notOk(active(h, 'r3'), 'the skewed r3 is inactive 12 s after its last refresh: its clock does not keep it alive');
      t.ok(active(h, 'r1') && active(h, 'r2'));
      t.ok(Math.abs(drift()) <= 1_000, `cluster time still tracks true time (drift ${drift()} ms)`);
    });
  }
}

t.test('a minority of routers cannot run the clock, whatever stamps they send', async (t) => {
  const h = new Harness();
  h.report(ROUTERS, STORAGES);
  refreshFor(h, 5, {});
  const before = h.view.clusterTimeMs();
  // r2 and r3 die (with a majority gone Raft commits nothing anyway; here the state machine is driven directly).
  refreshFor(h, 30, {}, ['r1']);
  h.run('r1', { type: 'liveness-refresh' }, h.nowMs + 2 * HOUR);
  t.ok(h.view.clusterTimeMs() - before <= 1_000, 'one router of three cannot move cluster time');
  t.ok(active(h, 'r2') && active(h, 'r3'), 'so nothing is judged on its word alone');
});

t.test('the skewed router alone cannot make a healthy storage unhealthy or the reverse', async (t) => {
  const h = new Harness();
  h.report(ROUTERS, STORAGES);
  refreshFor(h, 5, { r3: HOUR });
  h.run('r3', { type: 'health-update', reports: [{ virtualStorage: 'default', storage: 'g1', healthy: false }] }, h.nowMs + HOUR);
  refreshFor(h, 15, { r3: HOUR });
  t.ok(h.view.isHealthy('default', 'g1'), 'r1 and r2 still count: r3 saw g1 down, the majority did not');
});

t.test('the activity window is a replicated setting', async (t) => {
  const h = new Harness();
  h.report(ROUTERS, STORAGES);
  refreshFor(h, 5, {}, ['r1', 'r2']);
  t.ok(h.view.routers().find((r) => r.router === 'r3')!.active, 'within 10 s');
  h.run('r1', { type: 'set-settings', activityWindowMs: 2_000 });
  t.equal(h.view.settings().activityWindowMs, 2_000);
  t.notOk(h.view.routers().find((r) => r.router === 'r3')!.active, 'beyond 2 s');
});

// The prober on virtual time: rounds, flips after N, timeouts without
// overlap, error thresholds, onChange, and stop.
import t from 'tap';
import { pino } from 'pino';
import { HealthProber, ProberOptionsError, ProberStateError, UnknownStorageError } from '../../src/health/index.js';
import { flushMicrotasks } from './fixtures/fake-scheduler.js';
import { harness, healthyHarness, INTERVAL_MS } from './fixtures/prober-harness.js';
import { G1, G2, G3, TARGETS } from './fixtures/targets.js';

t.test('startup: unhealthy until N successes, then one onChange with the full view', async (t) => {
  const h = harness();
  t.same(h.prober.view().nodes.map((n) => n.healthy), [false, false, false]);
  h.prober.start();
  await h.scheduler.advance(0);
  t.equal(h.client.calls.length, 3, 'the first round runs at once, every node in parallel');
  await h.scheduler.advance(INTERVAL_MS);
  t.notOk(h.healthy(G1), 'two successes are not enough');
  t.equal(h.changes.length, 0);
  await h.scheduler.advance(INTERVAL_MS);
  t.ok(TARGETS.every((target) => h.healthy(target)));
  t.equal(h.changes.length, 1, 'one change event for the three flips of one round');
  const view = h.changes[0];
  t.same(view?.nodes.map((n) => [n.storage, n.healthy, n.sinceMs, n.consecutiveSuccesses]), [
    ['g1', true, 2_000, 3],
    ['g2', true, 2_000, 3],
    ['g3', true, 2_000, 3],
  ]);
  t.equal(view?.nodes[0]?.address, 'tcp://127.0.0.1:1');
  t.notOk(JSON.stringify(view).includes('secret-1'), 'the view carries no token');
});

t.test('rounds come every monitor interval, one probe per node each', async (t) => {
  const h = harness();
  h.prober.start();
  await h.scheduler.advance(10 * INTERVAL_MS);
  t.same(h.client.callsTo(G1).map((c) => c.atMs), [0, 1_000, 2_000, 3_000, 4_000, 5_000, 6_000, 7_000, 8_000, 9_000, 10_000]);
});

t.test('a dead node is unhealthy after exactly N failed rounds; others stay healthy', async (t) => {
  const h = await healthyHarness();
  h.client.set(G2, 'unavailable');
  await h.rounds(2);
  t.ok(h.healthy(G2), 'two failures are not enough');
  await h.rounds(1);
  t.notOk(h.healthy(G2));
  t.ok(h.healthy(G1) && h.healthy(G3));
  const g2 = h.changes.at(-1)?.nodes[1];
  t.same(
    { healthy: g2?.healthy, since: g2?.sinceMs, failures: g2?.consecutiveFailures, reason: g2?.lastProbe?.reason },
    { healthy: false, since: 5_000, failures: 3, reason: 'unavailable' },
  );
});

t.test('interrupted failures never flip a node', async (t) => {
  const h = await healthyHarness();
  for (let i = 0; i < 10; i++) {
    h.client.set(G1, i % 3 === 2 ? 'serving' : 'unavailable');
    await h.rounds(1);
    t.ok(h.healthy(G1), `round ${i}`);
  }
  t.equal(h.changes.length, 1, 'only the startup change');
});

t.test('a node that comes back needs N successes in a row', async (t) => {
  const h = await healthyHarness();
  h.client.set(G1, 'not-serving');
  await h.rounds(3);
  t.notOk(h.healthy(G1));
  t.equal(h.prober.view().nodes[0]?.lastProbe?.reason, 'not-serving');
  h.client.set(G1, 'serving');
  await h.rounds(1);
  h.client.set(G1, 'unavailable');
  await h.rounds(1);
  h.client.set(G1, 'serving');
  await h.rounds(2);
  t.notOk(h.healthy(G1), 'the streak restarted after the failure');
  await h.rounds(1);
  t.ok(h.healthy(G1));
  t.same(h.changes.map((v) => v.nodes[0]?.healthy), [true, false, true]);
});

t.test('a paused node: timeouts count as failures and probes never overlap', async (t) => {
  const h = await healthyHarness({ probeTimeoutMs: INTERVAL_MS });
  h.client.set(G3, 'hang');
  // Rounds at 3000, 4000 and 5000 each start a probe that hangs; each times out at the next round.
  await h.scheduler.advance(4 * INTERVAL_MS - 1);
  t.ok(h.healthy(G3), 'two timeouts so far (4000, 5000)');
  await h.scheduler.advance(1);
  t.notOk(h.healthy(G3), 'the third timeout, at 6000, flips it: N intervals after the first probe that hung');
  t.equal(h.prober.view().nodes[2]?.lastProbe?.reason, 'timeout');
  t.equal(h.prober.view().nodes[2]?.lastProbe?.latencyMs, INTERVAL_MS);
  t.equal(h.client.maxConcurrent(G3), 1, 'never two probes of one node at once');
  t.same(h.client.cancelled.filter((k) => k === 'default/g3').length, 3, 'each timed-out call was cancelled');
  t.ok(h.healthy(G1) && h.healthy(G2), 'a hanging node does not hold up the others');
});

t.test('a timeout shorter than the interval fires on its own and the next round probes again', async (t) => {
  const h = await healthyHarness({ probeTimeoutMs: 300 });
  h.client.set(G1, 'hang');
  await h.scheduler.advance(INTERVAL_MS + 300); // probe at 3000 times out at 3300
  t.equal(h.prober.view().nodes[0]?.consecutiveFailures, 1);
  t.same(h.client.callsTo(G1).slice(-1).map((c) => c.atMs), [3_000]);
  t.equal(h.client.maxConcurrent(G1), 1);
});

t.test('a slow answer within the timeout is a success, with its latency reported', async (t) => {
  const h = await healthyHarness();
  h.client.set(G2, { delayMs: 120, then: 'serving' });
  await h.scheduler.advance(INTERVAL_MS + 120);
  const sample = h.samples.filter((s) => s.storage === 'g2').at(-1);
  t.same({ ok: sample?.outcome.ok, latencyMs: sample?.latencyMs }, { ok: true, latencyMs: 120 });
  t.ok(h.healthy(G2));
});

t.test('a late answer after the timeout is ignored', async (t) => {
  const h = await healthyHarness({ probeTimeoutMs: 100 });
  h.client.set(G2, { delayMs: 400, then: 'serving' });
  await h.scheduler.advance(3 * INTERVAL_MS + 400); // timeouts at 3100, 4100, 5100; late answers at 3400, 4400, 5400
  t.notOk(h.healthy(G2), 'three timeouts; the late SERVING answers did not count');
  t.same(h.prober.view().nodes[1]?.consecutiveSuccesses, 0);
});

t.test('a client that rejects counts as a failed probe', async (t) => {
  const h = await healthyHarness();
  h.client.set(G1, 'reject');
  await h.rounds(3);
  t.notOk(h.healthy(G1));
  t.match(h.prober.view().nodes[0]?.lastProbe, { reason: 'error', detail: 'client bug' });
});

t.test('error thresholds mark a node unhealthy at once and release it when the window passes', async (t) => {
  const h = await healthyHarness({ errorThresholds: { readErrorCount: 3, writeErrorCount: 2, windowMs: 5_000 } });
  h.prober.recordError(G1, 'read');
  h.prober.recordError(G1, 'read');
  h.prober.recordError(G1, 'write');
  t.ok(h.healthy(G1), 'below both thresholds');
  h.prober.recordError(G1, 'write');
  t.notOk(h.healthy(G1), 'two write errors within 5 s');
  await flushMicrotasks();
  const node = h.changes.at(-1)?.nodes[0];
  t.same({ healthy: node?.healthy, probeHealthy: node?.probeHealthy, errorRateExceeded: node?.errorRateExceeded }, {
    healthy: false,
    probeHealthy: true,
    errorRateExceeded: true,
  });
  await h.scheduler.advance(4_000);
  t.notOk(h.healthy(G1), 'still within the window');
  await h.scheduler.advance(1_000);
  t.ok(h.healthy(G1), 'the round at 7000 saw the errors aged out');
  t.same(h.changes.map((v) => v.nodes[0]?.healthy), [true, false, true]);
});

t.test('error tracking off: recordError changes nothing; unknown storages are a typed error', async (t) => {
  const h = await healthyHarness();
  for (let i = 0; i < 100; i++) h.prober.recordError(G1, 'write');
  t.ok(h.healthy(G1));
  t.throws(() => h.prober.recordError({ virtualStorage: 'default', storage: 'nope' }, 'read'), UnknownStorageError);
  t.notOk(h.prober.isHealthy({ virtualStorage: 'other', storage: 'g1' }), 'an unknown storage is never healthy');
});

t.test('errors and probe failures together: both must clear', async (t) => {
  const h = await healthyHarness({ errorThresholds: { readErrorCount: 1, writeErrorCount: 1, windowMs: 2_500 } });
  h.client.set(G2, 'unavailable');
  h.prober.recordError(G2, 'read');
  await h.rounds(3);
  t.notOk(h.healthy(G2));
  h.client.set(G2, 'serving');
  await h.rounds(2);
  t.notOk(h.healthy(G2), 'the error aged out, but only two successes');
  await h.rounds(1);
  t.ok(h.healthy(G2));
});

t.test('a stalled process skips missed rounds instead of bunching them', async (t) => {
  const h = await healthyHarness();
  const before = h.client.callsTo(G1).length;
  h.scheduler.stall(3_500);
  await h.scheduler.advance(0);
  await h.scheduler.advance(INTERVAL_MS);
  t.same(h.client.callsTo(G1).slice(before).map((c) => c.atMs), [5_500, 6_500], 'one late round, then back on a 1 s rate');
});

t.test('stop cancels probes in flight, ignores their answers, closes the client, and fires nothing more', async (t) => {
  const h = await healthyHarness();
  h.client.set(G1, 'hang');
  await h.rounds(1);
  const calls = h.client.calls.length;
  h.prober.stop();
  t.ok(h.client.cancelled.includes('default/g1'));
  t.ok(h.client.closed);
  t.equal(h.scheduler.pendingTimers, 0, 'no timer left behind');
  await h.rounds(5);
  t.equal(h.client.calls.length, calls, 'no probe after stop');
  h.prober.stop();
  t.throws(() => h.prober.start(), ProberStateError);
});

t.test('start twice is a typed error', async (t) => {
  const h = harness();
  h.prober.start();
  t.throws(() => h.prober.start(), ProberStateError);
  h.prober.stop();
});

t.test('a throwing listener does not stop the prober', async (t) => {
  const logged: string[] = [];
  const logger = pino({ level: 'error' }, { write: (line: string) => logged.push(line) });
  const h = harness({
    logger,
    onChange: () => {
      throw new Error('listener bug');
    },
  });
  h.prober.start();
  await h.scheduler.advance(2 * INTERVAL_MS);
  t.ok(h.healthy(G1));
  h.client.set(G1, 'unavailable');
  await h.rounds(3);
  t.notOk(h.healthy(G1), 'still probing after the listener threw');
  t.ok(logged.some((line) => line.includes('health prober listener failed')));
});

t.test('verdict changes are logged with upstream wording and without tokens', async (t) => {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
  const h = await healthyHarness({ logger });
  h.client.set(G2, 'unavailable');
  await h.rounds(3);
  const unhealthy = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['msg'] === 'node marked unhealthy');
  t.equal(unhealthy.length, 1);
  t.match(unhealthy[0], { virtual_storage: 'default', storage: 'g2', address: 'tcp://127.0.0.1:2' });
  t.notOk(lines.join('').includes('secret-'), 'no token in any log line');
});

t.test('options are checked', async (t) => {
  const h = harness();
  const base = { targets: TARGETS, client: h.client, monitorIntervalMs: 1_000, probeTimeoutMs: 500, consecutiveProbes: 3 };
  t.throws(() => new HealthProber({ ...base, probeTimeoutMs: 1_001 }), ProberOptionsError);
  t.throws(() => new HealthProber({ ...base, monitorIntervalMs: 0 }), ProberOptionsError);
  t.throws(() => new HealthProber({ ...base, consecutiveProbes: 0 }), ProberOptionsError);
  t.throws(() => new HealthProber({ ...base, consecutiveProbes: 1.5 }), ProberOptionsError);
  t.throws(() => new HealthProber({ ...base, targets: [G1, G1] }), { name: 'ProberOptionsError', message: /listed twice/ });
  t.throws(() => new HealthProber({ ...base, errorThresholds: { readErrorCount: 0, writeErrorCount: 1, windowMs: 1 } }), ProberOptionsError);
  t.doesNotThrow(() => new HealthProber({ ...base, targets: [] }));
});

t.test('confirmFailureAfterMs: a failure is confirmed by quick follow-up probes, so N failures take one interval and (N - 1) short waits', async (t) => {
  const h = await healthyHarness({ confirmFailureAfterMs: 250 });
  const before = h.client.callsTo(G2).length;
  h.client.set(G2, 'unavailable');
  await h.rounds(1);
  t.ok(h.healthy(G2), 'one failure is not enough');
  await h.scheduler.advance(250);
  t.ok(h.healthy(G2), 'two are not enough');
  await h.scheduler.advance(250);
  t.notOk(h.healthy(G2), 'the third, half an interval after the first, flips it');
  const calls = h.client.callsTo(G2).slice(before).map((c) => c.atMs);
  t.same(calls.slice(1).map((at, i) => at - calls[i]!), [250, 250], `follow-ups 250 ms apart: ${calls.join(', ')}`);
  await h.rounds(3);
  t.same(h.client.callsTo(G2).slice(before + 3).length, 3, 'an unhealthy node is probed once a round again, no follow-ups');
  t.ok(h.healthy(G1) && h.healthy(G3), 'others are untouched');
});

t.test('confirmFailureAfterMs: a failed call the router reports triggers a follow-up probe', async (t) => {
  const h = await healthyHarness({ confirmFailureAfterMs: 100 });
  const before = h.client.callsTo(G3).length;
  h.prober.recordError(G3, 'write');
  await h.scheduler.advance(100);
  t.equal(h.client.callsTo(G3).length, before + 1, 'probed 100 ms after the error, before the next round');
  t.ok(h.healthy(G3), 'a serving node stays healthy');
  t.throws(() => healthyHarnessSync({ confirmFailureAfterMs: 5_000 }), ProberOptionsError, 'longer than the interval is refused');
});

function healthyHarnessSync(overrides: Parameters<typeof harness>[0]): HealthProber {
  return harness(overrides).prober;
}

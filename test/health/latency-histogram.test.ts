// gitaly_praefect_node_latency from the prober's onProbe hook.
import t from 'tap';
import { Registry } from 'prom-client';
import { HealthProber, nodeLatencyObserver, NODE_LATENCY_METRIC } from '../../src/health/index.js';
import { FakeScheduler } from './fixtures/fake-scheduler.js';
import { ScriptedClient } from './fixtures/scripted-client.js';
import { G1, G2 } from './fixtures/targets.js';

t.test('probe latencies land in the histogram in seconds, labelled by storage', async (t) => {
  const registry = new Registry();
  const scheduler = new FakeScheduler();
  const client = new ScriptedClient(scheduler);
  client.set(G1, { delayMs: 20, then: 'serving' });
  client.set(G2, 'hang');
  const prober = new HealthProber({
    targets: [G1, G2],
    client,
    monitorIntervalMs: 1_000,
    probeTimeoutMs: 500,
    consecutiveProbes: 3,
    scheduler,
    onProbe: nodeLatencyObserver(registry, [0.01, 0.1, 1]),
  });
  prober.start();
  await scheduler.advance(600);
  prober.stop();
  const text = await registry.metrics();
  t.match(text, `${NODE_LATENCY_METRIC}_bucket{le="0.1",gitaly_storage="g1"} 1`);
  t.match(text, `${NODE_LATENCY_METRIC}_bucket{le="0.01",gitaly_storage="g1"} 0`);
  t.match(text, `${NODE_LATENCY_METRIC}_sum{gitaly_storage="g2"} 0.5`, 'a timeout observes the timeout');
});

t.test('a second observer on one registry reuses the histogram', async (t) => {
  const registry = new Registry();
  const first = nodeLatencyObserver(registry, [1]);
  const second = nodeLatencyObserver(registry, [1]);
  first({ virtualStorage: 'v', storage: 's', outcome: { ok: true }, latencyMs: 10 });
  second({ virtualStorage: 'v', storage: 's', outcome: { ok: true }, latencyMs: 10 });
  t.match(await registry.metrics(), `${NODE_LATENCY_METRIC}_count{gitaly_storage="s"} 2`);
});

// The prober built from a parsed router config probes every node of every
// virtual storage with the [failover] settings.
import t from 'tap';
import { parseConfigToml } from '../../src/config/index.js';
import { healthProberFromConfig, probeTargets } from '../../src/health/index.js';
import { FakeScheduler } from './fixtures/fake-scheduler.js';
import { ScriptedClient } from './fixtures/scripted-client.js';

const TOML = `
listen_addr = "127.0.0.1:2305"

[[virtual_storage]]
name = "default"
[[virtual_storage.node]]
storage = "g1"
address = "tcp://127.0.0.1:8075"
token = "node-secret"
[[virtual_storage.node]]
storage = "g2"
address = "127.0.0.1:8076"

[[virtual_storage]]
name = "other"
[[virtual_storage.node]]
storage = "g1"
address = "unix:/run/g.sock"

[failover]
monitor_interval = "250ms"
consecutive_probes = 2
read_error_threshold_count = 1
write_error_threshold_count = 1
error_threshold_window = "1s"

[raft]
node_id = 1
data_dir = "/tmp/raft"
peers = [{ id = 1, address = "127.0.0.1:2305" }]
`;

t.test('targets are every node of every virtual storage, in configuration order', async (t) => {
  t.same(probeTargets(parseConfigToml(TOML)), [
    { virtualStorage: 'default', storage: 'g1', address: 'tcp://127.0.0.1:8075', token: 'node-secret' },
    { virtualStorage: 'default', storage: 'g2', address: '127.0.0.1:8076', token: '' },
    { virtualStorage: 'other', storage: 'g1', address: 'unix:/run/g.sock', token: '' },
  ]);
});

t.test('the [failover] settings drive the prober', async (t) => {
  const scheduler = new FakeScheduler();
  const client = new ScriptedClient(scheduler);
  const prober = healthProberFromConfig(parseConfigToml(TOML), { scheduler, client });
  prober.start();
  await scheduler.advance(250);
  const g1 = { virtualStorage: 'default', storage: 'g1' };
  t.ok(prober.isHealthy(g1), 'two successes at 0 and 250 ms (consecutive_probes = 2)');
  t.same(client.callsTo(g1).map((c) => c.atMs), [0, 250], 'every 250 ms');
  prober.recordError(g1, 'read');
  t.notOk(prober.isHealthy(g1), 'error thresholds are on');
  t.ok(prober.isHealthy({ virtualStorage: 'other', storage: 'g1' }), 'same storage name, other virtual storage: another node');
  prober.stop();
  t.ok(client.closed);
});

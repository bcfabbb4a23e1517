// The smallest valid file gets every documented default.
import t from 'tap';
import { DEFAULTS, parseConfig, parseConfigToml } from '../../src/config/index.js';
import { MINIMAL_TOML, minimalDocument, withKey } from './fixtures/documents.js';

t.test('a minimal file gets every default', async (t) => {
  const config = parseConfigToml(MINIMAL_TOML);
  t.equal(config.listenAddr, '127.0.0.1:2305');
  t.equal(config.tlsListenAddr, undefined);
  t.equal(config.prometheusListenAddr, undefined);
  t.notOk('tls' in config, 'no [tls] means no tls key at all');
  t.equal(config.gracefulStopTimeoutMs, 60_000);
  t.same(config.auth, { token: '', transitioning: false });
  t.same(config.logging, { level: 'info' });
  t.same(config.prometheus.grpcLatencyBuckets, DEFAULTS.grpcLatencyBuckets);
  t.same(config.virtualStorages, [
    { name: 'default', defaultReplicationFactor: 0, nodes: [{ storage: 'gitaly-1', address: 'tcp://127.0.0.1:8075', token: '' }] },
  ]);
  t.same(config.failover, {
    enabled: true,
    electionStrategy: 'per_repository',
    monitorIntervalMs: 1_000,
    probeTimeoutMs: 1_000,
    consecutiveProbes: 3,
    errorThresholds: null,
  });
  t.same(config.replication, {
    batchSize: 10,
    parallelStorageProcessingWorkers: 1,
    maxAttempts: 3,
    retryBackoffBaseMs: 1_000,
    retryBackoffMaxMs: 300_000,
  });
  t.same(config.reconciliation, { schedulingIntervalMs: 10_000, histogramBuckets: DEFAULTS.reconciliation.histogramBuckets });
  t.same(config.database, {
    host: '127.0.0.1',
    port: 5432,
    user: 'praefect',
    password: '',
    dbname: 'praefect_production',
    sslmode: 'disable',
    maxConnections: 10,
    acquireTimeoutMs: 1_000,
    connectTimeoutMs: 2_000,
    statementTimeoutMs: 5_000,
    idleTimeoutMs: 10_000,
  });
  t.same(config.raft, {
    nodeId: 1,
    dataDir: '/var/opt/praefect/raft',
    peers: [{ id: 1, address: '127.0.0.1:2305' }],
    tickMs: 100,
    electionTicks: 10,
    heartbeatTicks: 1,
    snapshotEveryEntries: 10_000,
    proposalTimeoutMs: 10_000,
    token: '',
    tls: null,
  });
  t.same(config.routing, { freshReads: true, staleReadAfterMs: 1_000, maxInFlight: 4_096, maxInFlightPerRepository: 128 });
  t.same(config.transactions, { enabled: true, voteTimeoutMs: 10_000, secondaryTimeoutMs: 2_000 });
});

t.test('the probe timeout defaults to min(monitor_interval, 1s)', async (t) => {
  const at = (interval: string): number =>
    parseConfig(withKey(minimalDocument(), ['failover', 'monitor_interval'], interval)).failover.probeTimeoutMs;
  t.equal(at('250ms'), 250);
  t.equal(at('100ms'), 100, 'the minimum interval is allowed');
  t.equal(at('5s'), 1_000);
});

t.test('the raft token falls back to [auth] token, and a set one wins', async (t) => {
  const withAuth = withKey(minimalDocument(), ['auth'], { token: 'shared' });
  t.equal(parseConfig(withAuth).raft.token, 'shared');
  t.equal(parseConfig(withKey(withAuth, ['raft', 'token'], 'own')).raft.token, 'own');
});

t.test('error thresholds: all three set turn tracking on, all zero leave it off', async (t) => {
  const failover = { read_error_threshold_count: 5, write_error_threshold_count: 2, error_threshold_window: '10s' };
  t.same(parseConfig(withKey(minimalDocument(), ['failover'], failover)).failover.errorThresholds, {
    readErrorCount: 5,
    writeErrorCount: 2,
    windowMs: 10_000,
  });
  const zero = { read_error_threshold_count: 0, write_error_threshold_count: 0, error_threshold_window: '0' };
  t.equal(parseConfig(withKey(minimalDocument(), ['failover'], zero)).failover.errorThresholds, null);
});

t.test('tls_listen_addr alone is a listener', async (t) => {
  const doc = withKey(withKey(minimalDocument(), ['listen_addr'], undefined), ['tls_listen_addr'], '0.0.0.0:3305');
  const config = parseConfig(withKey(doc, ['tls'], { certificate_path: '/c.pem', key_path: '/k.pem' }));
  t.equal(config.listenAddr, undefined);
  t.notOk('listenAddr' in config);
  t.same(config.tls, { certificatePath: '/c.pem', keyPath: '/k.pem' });
});

t.test('"0" turns reconciliation off', async (t) => {
  const config = parseConfig(withKey(minimalDocument(), ['reconciliation', 'scheduling_interval'], '0'));
  t.equal(config.reconciliation.schedulingIntervalMs, 0);
});

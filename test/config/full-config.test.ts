// A realistic production file parses into the shape the router uses.
import t from 'tap';
import { parseConfigToml } from '../../src/config/index.js';
import { FULL_TOML } from './fixtures/documents.js';

t.test('a realistic full config parses', async (t) => {
  const config = parseConfigToml(FULL_TOML);
  t.equal(config.listenAddr, '0.0.0.0:2305');
  t.equal(config.tlsListenAddr, '0.0.0.0:3305');
  t.equal(config.prometheusListenAddr, '0.0.0.0:9652');
  t.equal(config.gracefulStopTimeoutMs, 30_000);
  t.same(config.tls, { certificatePath: '/etc/gitlab/ssl/praefect.crt', keyPath: '/etc/gitlab/ssl/praefect.key' });
  t.same(config.auth, { token: 'client-token-7f3a9c', transitioning: false });
  t.equal(config.logging.level, 'warn');
  t.same(config.prometheus.grpcLatencyBuckets, [0.001, 0.01, 0.1, 1, 10]);

  t.same(
    config.virtualStorages.map((vs) => [vs.name, vs.defaultReplicationFactor, vs.nodes.map((n) => n.storage)]),
    [
      ['default', 2, ['gitaly-1', 'gitaly-2', 'gitaly-3']],
      ['archive', 0, ['archive-1']],
    ],
  );
  t.same(config.virtualStorages[0]?.nodes[2], { storage: 'gitaly-3', address: 'tls://gitaly-3.internal:9999', token: 'node-token-gitaly-3-z03' });
  t.same(config.virtualStorages[1]?.nodes[0], { storage: 'archive-1', address: 'unix:/var/opt/gitlab/gitaly/gitaly.socket', token: '' });

  t.same(config.failover, {
    enabled: true,
    electionStrategy: 'per_repository',
    monitorIntervalMs: 250,
    probeTimeoutMs: 200,
    consecutiveProbes: 2,
    errorThresholds: { readErrorCount: 20, writeErrorCount: 10, windowMs: 60_000 },
  });
  t.same(config.replication, {
    batchSize: 20,
    parallelStorageProcessingWorkers: 2,
    maxAttempts: 5,
    retryBackoffBaseMs: 500,
    retryBackoffMaxMs: 90_000,
  });
  t.same(config.reconciliation, { schedulingIntervalMs: 30_000, histogramBuckets: [0.01, 0.1, 1] });
  t.same(config.database, {
    host: 'postgres.internal',
    port: 6432,
    user: 'praefect',
    password: 'pg-password-q4w5e6',
    dbname: 'praefect_production',
    sslmode: 'verify-full',
    sslrootcert: '/etc/gitlab/ssl/ca.pem',
    maxConnections: 20,
    acquireTimeoutMs: 2_000,
    connectTimeoutMs: 3_000,
    statementTimeoutMs: 10_000,
    idleTimeoutMs: 60_000,
  });
  t.same(config.raft, {
    nodeId: 2,
    dataDir: '/var/opt/gitlab/praefect/raft',
    peers: [
      { id: 1, address: 'praefect-1.internal:2305' },
      { id: 2, address: 'praefect-2.internal:2305' },
      { id: 3, address: 'praefect-3.internal:2305' },
    ],
    tickMs: 50,
    electionTicks: 20,
    heartbeatTicks: 2,
    snapshotEveryEntries: 50_000,
    proposalTimeoutMs: 5_000,
    token: 'raft-token-m1n2b3',
    tls: null,
  });
  t.same(config.routing, { freshReads: true, staleReadAfterMs: 1_500, maxInFlight: 2_000, maxInFlightPerRepository: 50 });
  t.same(config.transactions, { enabled: true, voteTimeoutMs: 20_000, secondaryTimeoutMs: 3_000, voteAddress: 'praefect-1.internal:2305' });
});

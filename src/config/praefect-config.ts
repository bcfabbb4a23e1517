// The configuration as the router's code uses it: camelCase, units last in
// every name, defaults resolved. The file keeps upstream's key names; this
// shape is ours.
import type { ConfigFile } from './config-schema.js';
import { DEFAULTS } from './defaults.js';

export type LogLevel = ConfigFile['logging']['level'];
export type SslMode = ConfigFile['database']['sslmode'];

export interface NodeConfig {
  readonly storage: string;
  /** As written: tcp://host:port, tls://host:port, unix:/path or host:port. */
  readonly address: string;
  /** Sent to the node as a v2 token; empty sends none. Secret. */
  readonly token: string;
}

export interface VirtualStorageConfig {
  readonly name: string;
  /** 0: no assignments, every node holds a replica (upstream's meaning). */
  readonly defaultReplicationFactor: number;
  /** In configuration order, which breaks election ties (DESIGN §8). */
  readonly nodes: readonly NodeConfig[];
}

export interface ErrorThresholds {
  readonly readErrorCount: number;
  readonly writeErrorCount: number;
  readonly windowMs: number;
}

export interface FailoverConfig {
  readonly enabled: boolean;
  readonly electionStrategy: 'per_repository';
  readonly monitorIntervalMs: number;
  readonly probeTimeoutMs: number;
  /** Consecutive failed (or successful) probes before a node's local state flips. */
  readonly consecutiveProbes: number;
  /** null: error-rate tracking is off. */
  readonly errorThresholds: ErrorThresholds | null;
}

export interface ReplicationConfig {
  readonly batchSize: number;
  readonly parallelStorageProcessingWorkers: number;
  readonly maxAttempts: number;
  readonly retryBackoffBaseMs: number;
  readonly retryBackoffMaxMs: number;
}

export interface ReconciliationConfig {
  /** 0: the automatic reconciler is off. */
  readonly schedulingIntervalMs: number;
  readonly histogramBuckets: readonly number[];
}

export interface DatabaseConfig {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Secret. */
  readonly password: string;
  readonly dbname: string;
  readonly sslmode: SslMode;
  readonly sslcert?: string;
  readonly sslkey?: string;
  readonly sslrootcert?: string;
  readonly maxConnections: number;
  readonly acquireTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly statementTimeoutMs: number;
  readonly idleTimeoutMs: number;
}

export interface RaftPeer {
  readonly id: number;
  readonly address: string;
}

export interface RaftConfig {
  readonly nodeId: number;
  readonly dataDir: string;
  readonly peers: readonly RaftPeer[];
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly snapshotEveryEntries: number;
  readonly proposalTimeoutMs: number;
  /** Between routers: [raft] token, or [auth] token when that is empty. Secret. */
  readonly token: string;
  /** Raft traffic over TLS with [tls]'s certificate; null: plaintext. */
  readonly tls: { readonly caFile?: string } | null;
  /** Present (true) when the router joins a running group rather than founding one with `peers`. */
  readonly join?: true;
}

export interface RoutingConfig {
  readonly freshReads: boolean;
  /** null: reads without quorum fail closed. */
  readonly staleReadAfterMs: number | null;
  readonly maxInFlight: number;
  readonly maxInFlightPerRepository: number;
}

export interface TransactionsConfig {
  readonly enabled: boolean;
  readonly voteTimeoutMs: number;
  readonly secondaryTimeoutMs: number;
  readonly voteAddress?: string;
}

export interface PraefectConfig {
  readonly listenAddr?: string;
  readonly tlsListenAddr?: string;
  readonly prometheusListenAddr?: string;
  readonly gracefulStopTimeoutMs: number;
  readonly tls?: { readonly certificatePath: string; readonly keyPath: string };
  /** token is secret. */
  readonly auth: { readonly token: string; readonly transitioning: boolean };
  readonly logging: { readonly level: LogLevel };
  readonly prometheus: { readonly grpcLatencyBuckets: readonly number[] };
  readonly virtualStorages: readonly VirtualStorageConfig[];
  readonly failover: FailoverConfig;
  readonly replication: ReplicationConfig;
  readonly reconciliation: ReconciliationConfig;
  readonly database: DatabaseConfig;
  readonly raft: RaftConfig;
  readonly routing: RoutingConfig;
  readonly transactions: TransactionsConfig;
}

export function toPraefectConfig(file: ConfigFile): PraefectConfig {
  return {
    ...optional('listenAddr', file.listen_addr),
    ...optional('tlsListenAddr', file.tls_listen_addr),
    ...optional('prometheusListenAddr', file.prometheus_listen_addr),
    gracefulStopTimeoutMs: file.graceful_stop_timeout,
    ...(file.tls === undefined ? {} : { tls: { certificatePath: file.tls.certificate_path, keyPath: file.tls.key_path } }),
    auth: { token: file.auth.token, transitioning: file.auth.transitioning },
    logging: { level: file.logging.level },
    prometheus: { grpcLatencyBuckets: file.prometheus.grpc_latency_buckets },
    virtualStorages: file.virtual_storage.map((vs) => ({
      name: vs.name,
      defaultReplicationFactor: vs.default_replication_factor,
      nodes: vs.node.map((n) => ({ storage: n.storage, address: n.address, token: n.token })),
    })),
    failover: failoverConfig(file.failover),
    replication: replicationConfig(file.replication),
    reconciliation: {
      schedulingIntervalMs: file.reconciliation.scheduling_interval,
      histogramBuckets: file.reconciliation.histogram_buckets,
    },
    database: databaseConfig(file.database),
    raft: raftConfig(file.raft, file.auth.token),
    routing: {
      freshReads: file.routing.fresh_reads,
      staleReadAfterMs: file.routing.stale_reads_without_quorum ? file.routing.stale_read_after : null,
      maxInFlight: file.routing.max_in_flight,
      maxInFlightPerRepository: file.routing.max_in_flight_per_repository,
    },
    transactions: {
      enabled: file.transactions.enabled,
      voteTimeoutMs: file.transactions.vote_timeout,
      secondaryTimeoutMs: file.transactions.secondary_timeout,
      ...optional('voteAddress', file.transactions.vote_address),
    },
  };
}

function failoverConfig(f: ConfigFile['failover']): FailoverConfig {
  const thresholdsSet = f.read_error_threshold_count > 0 && f.write_error_threshold_count > 0 && f.error_threshold_window > 0;
  return {
    enabled: f.enabled,
    electionStrategy: f.election_strategy,
    monitorIntervalMs: f.monitor_interval,
    probeTimeoutMs: f.probe_timeout ?? Math.min(f.monitor_interval, DEFAULTS.failover.probeTimeoutCapMs),
    consecutiveProbes: f.consecutive_probes,
    errorThresholds: thresholdsSet
      ? {
          readErrorCount: f.read_error_threshold_count,
          writeErrorCount: f.write_error_threshold_count,
          windowMs: f.error_threshold_window,
        }
      : null,
  };
}

function replicationConfig(r: ConfigFile['replication']): ReplicationConfig {
  return {
    batchSize: r.batch_size,
    parallelStorageProcessingWorkers: r.parallel_storage_processing_workers,
    maxAttempts: r.max_attempts,
    retryBackoffBaseMs: r.retry_backoff_base,
    retryBackoffMaxMs: r.retry_backoff_max,
  };
}

function databaseConfig(d: ConfigFile['database']): DatabaseConfig {
  return {
    host: d.host,
    port: d.port,
    user: d.user,
    password: d.password,
    dbname: d.dbname,
    sslmode: d.sslmode,
    ...optional('sslcert', d.sslcert),
    ...optional('sslkey', d.sslkey),
    ...optional('sslrootcert', d.sslrootcert),
    maxConnections: d.max_connections,
    acquireTimeoutMs: d.acquire_timeout,
    connectTimeoutMs: d.connect_timeout,
    statementTimeoutMs: d.statement_timeout,
    idleTimeoutMs: d.idle_timeout,
  };
}

function raftConfig(r: ConfigFile['raft'], authToken: string): RaftConfig {
  return {
    nodeId: r.node_id,
    dataDir: r.data_dir,
    peers: r.peers.map((p) => ({ id: p.id, address: p.address })),
    tickMs: r.tick,
    electionTicks: r.election_ticks,
    heartbeatTicks: r.heartbeat_ticks,
    snapshotEveryEntries: r.snapshot_every_entries,
    proposalTimeoutMs: r.proposal_timeout,
    token: r.token.length > 0 ? r.token : authToken,
    tls: r.tls ? optional('caFile', r.ca_file) : null,
    ...optional('join', r.join ? (true as const) : undefined),
  };
}

// Absent keys stay absent rather than present-and-undefined.
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

// Every default and every bound of the router's configuration in one place, so
// the schema, the documentation and the tests cannot drift apart. Durations
// are in milliseconds here and written as duration strings in the TOML file.

const SECOND_MS = 1_000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;

export const DEFAULTS = {
  gracefulStopTimeoutMs: MINUTE_MS, // upstream's
  logLevel: 'info',
  // Upstream's [prometheus] grpc_latency_buckets default, in seconds.
  grpcLatencyBuckets: [0.001, 0.005, 0.025, 0.1, 0.5, 1, 10, 30, 60, 300, 1500],
  failover: {
    enabled: true,
    electionStrategy: 'per_repository',
    monitorIntervalMs: SECOND_MS,
    /** Upper end of the probe timeout's default; the default is min(this, monitor_interval). */
    probeTimeoutCapMs: SECOND_MS,
    consecutiveProbes: 3,
  },
  replication: {
    batchSize: 10, // upstream's
    parallelStorageProcessingWorkers: 1, // upstream's
    maxAttempts: 3, // upstream's
    retryBackoffBaseMs: SECOND_MS,
    retryBackoffMaxMs: 5 * MINUTE_MS,
  },
  reconciliation: {
    // Upstream scans PostgreSQL every 5 minutes; ours reads the local Raft state, so it can afford
    // 10 s, which bounds how long a job lost to a PostgreSQL outage waits.
    schedulingIntervalMs: 10 * SECOND_MS,
    // prom-client's (and Prometheus') default buckets, as upstream uses.
    histogramBuckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  },
  database: {
    host: '127.0.0.1',
    port: 5432,
    user: 'praefect',
    password: '',
    dbname: 'praefect_production',
    sslmode: 'disable',
    // The pool's own defaults (src/db/pool.ts).
    maxConnections: 10,
    acquireTimeoutMs: SECOND_MS,
    connectTimeoutMs: 2 * SECOND_MS,
    statementTimeoutMs: 5 * SECOND_MS,
    idleTimeoutMs: 10 * SECOND_MS,
  },
  raft: {
    // The driver's and core's own defaults (src/raft).
    tickMs: 100,
    electionTicks: 10,
    heartbeatTicks: 1,
    snapshotEveryEntries: 10_000,
    proposalTimeoutMs: 10 * SECOND_MS,
  },
  transactions: {
    enabled: true,
    voteTimeoutMs: 10 * SECOND_MS,
    secondaryTimeoutMs: 2 * SECOND_MS,
    /** Request bytes a secondary may have unsent before it is cut off (not a config key). */
    maxSecondaryBufferedBytes: 16 * 1024 * 1024,
  },
  routing: {
    freshReads: true,
    staleReadsWithoutQuorum: true,
    // An election timeout at the default tick: a healthy group answers a ReadIndex far sooner.
    staleReadAfterMs: SECOND_MS,
    maxInFlight: 4_096,
    maxInFlightPerRepository: 128,
  },
} as const;

export const BOUNDS = {
  gracefulStopTimeoutMs: { min: 0, max: HOUR_MS },
  histogramBuckets: { maxCount: 64 },
  virtualStorages: { max: 256 },
  nodesPerVirtualStorage: { max: 64 },
  nameLength: { max: 255 },
  secretLength: { max: 4_096 },
  pathLength: { max: 4_096 },
  failover: {
    monitorIntervalMs: { min: 100, max: MINUTE_MS },
    probeTimeoutMs: { min: 10, max: MINUTE_MS },
    consecutiveProbes: { min: 1, max: 100 },
    errorThresholdCount: { max: 100_000 },
    errorThresholdWindowMs: { max: HOUR_MS },
  },
  replication: {
    batchSize: { min: 1, max: 10_000 },
    parallelStorageProcessingWorkers: { min: 1, max: 256 },
    maxAttempts: { min: 1, max: 1_000 },
    retryBackoffMs: { min: 1, max: 24 * HOUR_MS },
  },
  reconciliation: {
    /** 0 turns automatic reconciliation off, as upstream; otherwise at least this. */
    schedulingIntervalMs: { min: 100, max: 24 * HOUR_MS },
  },
  database: {
    maxConnections: { min: 1, max: 10_000 },
    timeoutMs: { min: 1, max: HOUR_MS },
  },
  raft: {
    peers: { max: 15 },
    tickMs: { min: 1, max: 10 * SECOND_MS },
    electionTicks: { min: 2, max: 10_000 },
    heartbeatTicks: { min: 1, max: 1_000 },
    snapshotEveryEntries: { min: 1, max: 1_000_000_000 },
    proposalTimeoutMs: { min: 1, max: 10 * MINUTE_MS },
  },
  routing: {
    maxInFlight: { min: 1, max: 1_000_000 },
    staleReadAfterMs: { min: 1, max: MINUTE_MS },
  },
  transactions: {
    voteTimeoutMs: { min: 10, max: 10 * MINUTE_MS },
    secondaryTimeoutMs: { min: 1, max: 10 * MINUTE_MS },
  },
} as const;

// One router process (DESIGN §2): a Raft member over LevelDB, the health
// prober and what it publishes, the PostgreSQL catalogue and queue, and the
// gRPC front that forwards Gitaly calls. Startup does not wait for
// PostgreSQL: without it, existing repositories keep working (DESIGN §12).
import * as grpc from '@grpc/grpc-js';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type pino from 'pino';
import * as client from 'prom-client';
import { LevelClusterStateMachine } from '../cluster/index.js';
import { DEFAULTS, NodeDirectory, type PraefectConfig } from '../config/index.js';
import { createClusterRouter, PostgresCatalogue, type RouterTransactions } from '../coordinator/index.js';
import { errorStatus, RefTransactionAnswers, TransactionManager, TransactionMetrics } from '../transactions/index.js';
import { ReplicationQueue, RepositoryStore, type DatabasePool } from '../db/index.js';
import { Reconciler, ReplicationWorker, replicationQueueOptions } from '../replication/index.js';
import { healthProberFromConfig, nodeLatencyObserver, type HealthProber } from '../health/index.js';
import { createForwarder, stopServer, type Forwarder, type LocalAnswerer } from '../proxy/index.js';
import { clusterAdminService } from '../admin/index.js';
import { guardService, type ServerAuthOptions } from '../auth/index.js';
import { loadLearnedPeers } from './admin-raft.js';
import { adminImplementation } from './admin-service.js';
import { GrpcTransport, RaftDriver, raftServerOptions, registerRaftMetrics } from '../raft/index.js';
import { LevelLogStore } from '../storage/index.js';
import { openPool } from './database.js';
import { HealthPublisher } from './health-publisher.js';
import { startMetricsServer, type MetricsServer } from './metrics-server.js';
import { nodeTargets } from './node-lister.js';
import { logCall } from './call-log.js';
import { failpointHook, FAILPOINTS_ENV, parseRouterFailpoints } from './failpoints.js';
import { observedRouter } from './observed-router.js';
import { RaftClusterAccess } from './raft-cluster-access.js';
import { createRouterMetrics } from './router-metrics.js';

/** Node answers that count toward the error-rate thresholds (DESIGN §8): the node, not the request, failed. */
const NODE_ERROR_CODES: ReadonlySet<number> = new Set([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED, grpc.status.INTERNAL, grpc.status.UNKNOWN]);

export interface PraefectServerOptions {
  readonly config: PraefectConfig;
  readonly logger: pino.Logger;
  /** The name this router stamps on its proposals; defaults to `router-<raft node id>`. */
  readonly routerName?: string;
}

export class PraefectServer {
  private constructor(
    readonly routerName: string,
    readonly driver: RaftDriver,
    readonly access: RaftClusterAccess,
    readonly prober: HealthProber,
    readonly pool: DatabasePool,
    readonly registry: client.Registry,
    private readonly parts: {
      readonly stateMachine: LevelClusterStateMachine;
      readonly transport: GrpcTransport;
      readonly raftServer: grpc.Server;
      readonly publisher: HealthPublisher;
      readonly worker: ReplicationWorker;
      readonly reconciler: Reconciler;
      readonly front: { readonly server: grpc.Server; readonly forwarder: Forwarder; readonly address: string; readonly tlsAddress: string | undefined };
      readonly metrics: MetricsServer | undefined;
      readonly logger: pino.Logger;
    },
  ) {}

  /** The client listener's host:port. */
  get address(): string {
    return this.parts.front.address;
  }

  /** The TLS listener's host:port, when tls_listen_addr is set. */
  get tlsAddress(): string | undefined {
    return this.parts.front.tlsAddress;
  }

  get metricsAddress(): string | undefined {
    return this.parts.metrics?.address;
  }

  static async start(options: PraefectServerOptions): Promise<PraefectServer> {
    const { config, logger } = options;
    const routerName = options.routerName ?? `router-${config.raft.nodeId}`;
    const failpoint = failpointHook(parseRouterFailpoints(process.env[FAILPOINTS_ENV]));
    const configured = new Map(config.raft.peers.map((p) => [p.id, p.address]));
    const raftAddress = configured.get(config.raft.nodeId);
    if (raftAddress === undefined) throw new Error(`raft.peers has no address for raft.node_id ${config.raft.nodeId}`);
    mkdirSync(config.raft.dataDir, { recursive: true });
    // Members added since (AddRaftPeer) are known from the data_dir; the configuration wins for the ids it names.
    const peers = new Map([...loadLearnedPeers(config.raft.dataDir), ...configured]);
    const store = await LevelLogStore.open(path.join(config.raft.dataDir, 'raft-log'));
    const stateMachine = await LevelClusterStateMachine.open(path.join(config.raft.dataDir, 'cluster-state'));
    const raftTls = raftCredentials(config);
    const transport = new GrpcTransport({
      selfId: config.raft.nodeId,
      peers,
      internalToken: config.raft.token,
      logger,
      ...(raftTls === undefined ? {} : { channelCredentials: raftTls.channel }),
    });
    const driver = new RaftDriver({
      id: config.raft.nodeId,
      store,
      stateMachine,
      transport,
      // A joining router founds nothing: it waits to be added as a learner.
      ...(config.raft.join === true ? {} : { bootstrapVoters: [...configured.keys()] }),
      tickMs: config.raft.tickMs,
      raft: { electionTicks: config.raft.electionTicks, heartbeatTicks: config.raft.heartbeatTicks },
      proposalTimeoutMs: config.raft.proposalTimeoutMs,
      snapshotEveryEntries: config.raft.snapshotEveryEntries,
      onSoftState: (state, term) => logger.info({ leader: state.leader, role: state.role, term }, 'raft role changed'),
      onError: (error) => logger.fatal({ err: error }, 'raft node stopped on an internal error'),
    });
    const raftServer = new grpc.Server(raftServerOptions());
    transport.addToServer(raftServer);
    await bind(raftServer, raftAddress, raftTls?.server);
    await driver.start();

    const access = new RaftClusterAccess(routerName, stateMachine.view, driver);
    const registry = new client.Registry();
    client.collectDefaultMetrics({ register: registry });
    registerRaftMetrics(driver, registry);
    const latencyBucketsSec = config.prometheus.grpcLatencyBuckets;
    const publisher = new HealthPublisher({
      access,
      view: () => prober.view(),
      refreshIntervalMs: Math.min(1_000, Math.max(100, Math.floor(stateMachine.view.settings().activityWindowMs / 5))),
      logger,
    });
    // Set once the voting engine exists: a node this router marks down leaves every open transaction.
    let lostNode: (storage: string) => void = () => undefined;
    const prober = healthProberFromConfig(config, {
      logger,
      onChange: (view) => {
        publisher.viewChanged();
        for (const node of view.nodes) if (!node.healthy) lostNode(node.storage);
      },
      onProbe: nodeLatencyObserver(registry, latencyBucketsSec),
    });
    const metrics = createRouterMetrics(registry, stateMachine.view, prober, latencyBucketsSec);
    prober.start();
    publisher.start();

    const pool = openPool(config.database);
    const nodes = new NodeDirectory(config.virtualStorages);
    const queue = new ReplicationQueue(pool, replicationQueueOptions(config.replication));
    const reachable = (virtualStorage: string, storage: string): boolean => prober.isHealthy({ virtualStorage, storage });
    const worker = new ReplicationWorker({
      access,
      queue,
      directory: nodes,
      config: config.replication,
      reachable,
      logger,
      registry,
    });
    // An intent is settled once its router has been inactive for an activity window: a router that
    // comes back and bumps after that is harmless (the bump lands on top of the settled generation).
    const reconciler = new Reconciler({ access, queue, config: config.reconciliation, logger, staleIntentAgeMs: stateMachine.view.settings().activityWindowMs });
    const listen = config.listenAddr ?? '127.0.0.1:2305';
    const transactions = config.transactions.enabled ? routerTransactions(config, registry) : undefined;
    if (transactions !== undefined) lostNode = (storage) => transactions.router.manager.withdrawEverywhere(storage);
    const clusterRouter = createClusterRouter({
      access,
      nodes,
      reachable,
      catalogue: new PostgresCatalogue(new RepositoryStore(pool)),
      jobs: queue,
      freshReads: config.routing.freshReads,
      ...(config.routing.staleReadAfterMs === null
        ? {}
                : {
          staleReads: {
            afterMs: config.routing.staleReadAfterMs,
            onStaleRead: (why: string) => {
              metrics.staleRead();
              logger.debug({ why }, 'read served from this router\'s own state');
            },
          },
        }),
      ...(transactions === undefined ? {} : { transactions: transactions.router }),
      onNodeResult: (node, kind, code) => {
        if (NODE_ERROR_CODES.has(code)) prober.recordError(node, kind);
      },
      onPrimaryChanged: (change) => metrics.electionChanged(change.virtualStorage),
      ...optionalFailpoint(failpoint),
      logger,
    });
    const router = observedRouter(clusterRouter, (record) => {
      metrics.observeCall(record);
      logCall(logger, record);
    });
    const auth: ServerAuthOptions = { token: config.auth.token, transitioning: config.auth.transitioning, observe: metrics.observeAuth };
    const forwarder = createForwarder({
      router,
      nodes: async () => nodeTargets(nodes),
      auth,
      limits: { maxCalls: config.routing.maxInFlight, maxCallsPerRepository: config.routing.maxInFlightPerRepository },
      ...(transactions === undefined ? {} : { localAnswers: transactions.answers }),
      onError: (error, method) => logger.warn({ err: error, method: method.path }, 'routing failure after the call'),
    });
    const server = new grpc.Server(forwarder.serverOptions);
    forwarder.register(server);
    const admin = clusterAdminService().service;
    server.addService(admin, guardService(admin, adminImplementation({
          access,
          driver,
          prober,
          appliedIndex: () => stateMachine.appliedIndex(),
          nodes,
          pool,
          transport,
          raftDataDir: config.raft.dataDir,
          staleIntentAgeMs: stateMachine.view.settings().activityWindowMs,
          ...(transactions === undefined ? {} : { transactionsInFlight: () => transactions.router.manager.openCount }),
        }), auth));
    const port = await bind(server, listen);
    const tlsAddress = await bindTls(server, config);
    const front = { server, forwarder, address: `${listen.slice(0, listen.lastIndexOf(':'))}:${port}`, tlsAddress };
    if (transactions !== undefined) transactions.voteTarget.listenAddr = `tcp://${config.transactions.voteAddress ?? front.address}`;
    worker.start();
    reconciler.start();
    const metricsServer = config.prometheusListenAddr === undefined ? undefined : await startMetricsServer(registry, config.prometheusListenAddr);
    logger.info({ address: front.address, tls_address: front.tlsAddress, raft_address: raftAddress, metrics_address: metricsServer?.address, router: routerName }, 'router listening');
    return new PraefectServer(routerName, driver, access, prober, pool, registry, {
      stateMachine,
      transport,
      raftServer,
      publisher,
      worker,
      reconciler,
      front,
      metrics: metricsServer,
      logger,
    });
  }

  /** Stops taking calls, lets those in flight finish (up to graceMs), then stops Raft and closes the stores. */
  async stop(graceMs = 5_000): Promise<void> {
    const { front, publisher, worker, reconciler, metrics, transport, raftServer, stateMachine } = this.parts;
    await stopServer(front.server, graceMs);
    front.forwarder.close();
    reconciler.stop();
    await worker.stop();
    publisher.stop();
    this.prober.stop();
    await metrics?.close();
    await this.driver.stop();
    await transport.close();
    raftServer.forceShutdown();
    await this.pool.close();
    await stateMachine.close();
  }
}

function bind(server: grpc.Server, address: string, credentials = grpc.ServerCredentials.createInsecure()): Promise<number> {
  return new Promise((resolve, reject) => server.bindAsync(address, credentials, (error, port) => (error ? reject(error) : resolve(port))));
}

/** tls_listen_addr serves the same services as listen_addr, over TLS with [tls]'s certificate. */
async function bindTls(server: grpc.Server, config: PraefectConfig): Promise<string | undefined> {
  if (config.tlsListenAddr === undefined || config.tls === undefined) return undefined;
  const credentials = grpc.ServerCredentials.createSsl(null, [{ cert_chain: readFileSync(config.tls.certificatePath), private_key: readFileSync(config.tls.keyPath) }], false);
  const port = await bind(server, config.tlsListenAddr, credentials);
  return `${config.tlsListenAddr.slice(0, config.tlsListenAddr.lastIndexOf(':'))}:${port}`;
}

interface Transactions {
  router: RouterTransactions;
  answers: LocalAnswerer;
  /** Filled in once the client listener is bound (its port may have been 0). */
  voteTarget: { listenAddr: string; token: string };
}

/**
 * The voting engine, the route side and the RefTransaction answers of this
 * router. Nodes vote on the client listener, signing with the client token.
 */
function routerTransactions(config: PraefectConfig, registry: client.Registry): Transactions {
  const metrics = new TransactionMetrics(registry);
  const manager = new TransactionManager({ voteTimeoutMs: config.transactions.voteTimeoutMs, metrics });
  const answers = new RefTransactionAnswers(manager);
  const voteTarget = { listenAddr: '', token: config.auth.token };
  const router: RouterTransactions = {
    manager,
    voteTarget,
    settleMs: config.transactions.secondaryTimeoutMs,
    maxBufferedBytes: DEFAULTS.transactions.maxSecondaryBufferedBytes,
    onReplication: (reason) => metrics.replicationScheduled(reason),
  };
  return {
    router,
    voteTarget,
    answers: {
      handles: (path) => answers.handles(path),
      answer: (path, request, signal) => answers.answer(path, request, signal),
      statusOf: (error) => {
        const status = errorStatus(error);
        return { code: status.code ?? grpc.status.UNKNOWN, details: status.details ?? 'vote failed' };
      },
    },
  };
}

function optionalFailpoint(hook: ((name: string) => void) | undefined): { failpoint?: (name: string) => void } {
  return hook === undefined ? {} : { failpoint: hook };
}

/** [raft] tls: the routers' Raft listener and channels use [tls]'s certificate. */
function raftCredentials(config: PraefectConfig): { server: grpc.ServerCredentials; channel: grpc.ChannelCredentials } | undefined {
  if (config.raft.tls === null || config.tls === undefined) return undefined;
  const certificate = { cert_chain: readFileSync(config.tls.certificatePath), private_key: readFileSync(config.tls.keyPath) };
  const ca = config.raft.tls.caFile === undefined ? null : readFileSync(config.raft.tls.caFile);
  return { server: grpc.ServerCredentials.createSsl(null, [certificate], false), channel: grpc.credentials.createSsl(ca) };
}

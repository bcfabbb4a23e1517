// One Jepsen test run, phase by phase: start the cluster behind fault
// proxies and wait until it is healthy; warm-up (ops, no faults); faults
// (the schedule's events at their times); heal all; recovery (ops go on);
// final reads on every router; then every checker, and the store folder.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AdminClient } from '../../src/admin/index.js';
import type { FaultWindow, StorageWrite } from '../checker/index.js';
import { mulberry32 } from '../net/index.js';
import { ClientWorkers, runOp } from './client-workers.js';
import { ClusterObserver } from './cluster-observer.js';
import { GitalyCalls, describeError, statusName } from './gitaly-calls.js';
import { HistoryRecorder } from './history-recorder.js';
import { ClockFaker } from './nemesis/clock-faker.js';
import { FaultExecutor } from './nemesis/fault-executor.js';
import { describeFault, usesClock } from './nemesis/harness-nemesis.js';
import { scrapeReplicationOutcomes, type OutcomeCounts, type ReplicationProbe } from './replication-probe.js';
import { runChecks, type CheckResults } from './run-checks.js';
import { evaluateScenario, scenarioByName, type ScenarioProbes } from './scenarios.js';
import { copyLogs, createStoreDir, writeRunFiles, type AppliedEvent } from './store.js';
import { acknowledgedWrites, readStorageWriteLogs, withAcknowledgement } from './storage-write-logs.js';
import type { TestConfig } from './test-config.js';
import { POSTGRES_NODE, TestCluster } from './test-cluster.js';
import {
  appendWorkload,
  clusterStateWorkload,
  registerWorkload,
  setFullWorkload,
  type ClusterClients,
  type KeyedWorkloadOptions,
  type Workload,
} from './workloads/index.js';

export interface RunOutcome {
  readonly dir: string;
  readonly results: CheckResults;
  readonly valid: boolean;
}

export interface RunOptions {
  /** The store root; default jepsen/store of the project. */
  readonly storeRoot?: string;
  readonly keepCluster?: boolean;
  readonly log?: (line: string) => void;
}

const FINAL_READ_ATTEMPTS = 3;
/** How long after the heal the catch-up probe waits for every replica to be current. */
const CATCH_UP_LIMIT_MS = 120_000;

export async function runTest(config: TestConfig, options: RunOptions = {}): Promise<RunOutcome> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const store = createStoreDir(options.storeRoot);
  const clusterDir = mkdtempSync(path.join(tmpdir(), 'jepsen-cluster-'));
  chmodSync(clusterDir, 0o755);
  const clock = usesClock(config.nemesis, config.schedule) ? ClockFaker.create(path.join(clusterDir, 'clocks')) : undefined;
  log(`jepsen: ${config.name} seed ${config.seed}; store ${store}`);
  const minimum = config.scenario === undefined ? undefined : scenarioByName(config.scenario).minTimeLimit;
  if (minimum !== undefined && config.timeLimitMs === minimum.ms) log(`  time limit ${minimum.ms / 1000} s at least: ${minimum.why}`);
  const cluster = await TestCluster.start({
    dir: clusterDir,
    routers: config.routers,
    storages: config.storages,
    monitorIntervalMs: config.monitorIntervalMs,
    tickMs: config.tickMs,
    electionTicks: config.electionTicks,
    net: config.net,
    ...(config.storageDiskBytes === undefined ? {} : { storageDiskBytes: config.storageDiskBytes }),
    ...(clock === undefined ? {} : { env: (name: string) => (name.startsWith('praefect-') ? clock.envFor(name) : undefined) }),
    onProgress: (m) => log(`  ${m}`),
  });
  const recorder = new HistoryRecorder();
  const observer = new ClusterObserver(cluster, { pollIntervalMs: config.raftPollIntervalMs, now: () => recorder.now() });
  const clients = clusterClients(cluster, config);
  try {
    if (!(await observer.waitHealthy(60_000))) throw new Error('the cluster did not become healthy within 60 s of starting');
    const applied = await runPhases(config, cluster, recorder, observer, clients, clock, log);
    const history = recorder.history();
    const { samples, dropped } = observer.raftSamples();
    // Stopped first, so the routers' last log lines (which writes they acknowledged) are on disk.
    await cluster.stop();
    const logged = readStorageWriteLogs(cluster.cluster.storages);
    const routerLogs = cluster.cluster.routers.map((r) => path.join(clusterDir, 'logs', `${r.name}.log`));
    const storageWrites = { ...logged, lines: withAcknowledgement(logged.lines, acknowledgedWrites(routerLogs)) };
    log(`  storage write logs: ${storageWrites.lines.length} lines in ${storageWrites.files.length} files${storageWrites.unreadable.length > 0 ? `, ${storageWrites.unreadable.length} unreadable` : ''}`);
    const inputs = { workload: config.workload, history, raftSamples: samples, writers: applied.writers, storageWrites: storageWrites.lines, windows: applied.windows };
    const checked = { ...runChecks(inputs), setup: { keys: applied.keys, failures: applied.setupFailures.length, firstFailures: applied.setupFailures.slice(0, 5) } };
    const scenario = config.scenario === undefined ? undefined : scenarioByName(config.scenario);
    const results = scenario === undefined ? checked : evaluateScenario(scenario, config, checked, history, applied.windows, applied.probes, applied.writers);
    copyLogs(path.join(clusterDir, 'logs'), path.join(store, 'logs'));
    writeRunFiles(store, { config, history, raftSamples: samples, raftSamplesDropped: dropped, writers: applied.writers, storageWrites: storageWrites.lines, events: applied.events, probes: applied.probes, results });
    return { dir: store, results, valid: results.valid };
  } finally {
    observer.close();
    clients.close();
    await cluster.stop().catch(() => undefined);
    if (options.keepCluster !== true) rmSync(clusterDir, { recursive: true, force: true });
  }
}

/** A fresh repository the workload could not set up (the key was dropped). */
export interface SetupFailure {
  readonly time: number;
  readonly key: string;
  readonly error: string;
}

interface PhaseOutput {
  readonly setupFailures: SetupFailure[];
  readonly keys: number;
  readonly probes: ScenarioProbes;
  readonly windows: FaultWindow[];
  readonly events: AppliedEvent[];
  readonly writers: StorageWrite[];
}

async function runPhases(
  config: TestConfig,
  cluster: TestCluster,
  recorder: HistoryRecorder,
  observer: ClusterObserver,
  clients: ClusterClients & { close(): void },
  clock: ClockFaker | undefined,
  log: (line: string) => void,
): Promise<PhaseOutput> {
  const seeds = mulberry32(config.seed);
  const writers: StorageWrite[] = [];
  const setupFailures: SetupFailure[] = [];
  let setupProcess = 0;
  const workload = makeWorkload(config, clients, {
    prefix: `jepsen-${config.seed}-${Date.now().toString(36)}/${config.workload}`,
    liveKeys: config.liveKeys,
    opsPerKey: config.opsPerKey,
    spareKeys: config.spareKeys,
    onSetupFailure: (key, error) => {
      if (setupFailures.length < 10_000) setupFailures.push({ time: recorder.now(), key, error: describeError(error) });
    },
    recordSetup: async (f, key, run) => {
      const invocation = { process: 100_000 + setupProcess++, f, key, value: null };
      recorder.invoke(invocation);
      try {
        const value = await run();
        recorder.complete(invocation, 'ok', value);
        return value;
      } catch (error) {
        recorder.complete(invocation, 'info', null, describeError(error));
        throw error;
      }
    },
  });
  const workerSeeds = Array.from({ length: config.concurrency }, () => Math.floor(seeds.next() * 2 ** 32));
  const workers = new ClientWorkers({
    workload,
    recorder,
    routers: cluster.routerNames,
    concurrency: config.concurrency,
    rngOf: (worker) => mulberry32(workerSeeds[worker]!),
    opDelayMs: config.opDelayMs,
    afterWrite: async (router, op) => {
      const m = await clients.admin(router).repositoryMetadata({ virtual_storage: clients.virtualStorage, relative_path: op.key, fresh: true });
      writers.push({ repository: op.key, generation: Number(m.generation), storage: m.primary, time: recorder.now() });
    },
  });
  const executor = new FaultExecutor(cluster, observer, mulberry32(Math.floor(seeds.next() * 2 ** 32)), clock, () => workload.keys());
  const events: AppliedEvent[] = [];
  const windows: FaultWindow[] = [];
  observer.start();
  workers.start();
  log(`  warm-up ${config.warmupMs} ms`);
  await sleep(config.warmupMs);
  log(`  faults ${config.faultMs} ms (${config.schedule.length / 2} faults)`);
  const faultStart = Date.now();
  const probes: ScenarioProbes = {};
  const wanted = new Set(config.scenario === undefined ? [] : (scenarioByName(config.scenario).probes ?? []));
  const createProbe = wanted.has('createDuringFault')
    ? sleep(config.faultMs / 2).then(async () => {
        probes.createDuringFault = await createStatus(clients, `jepsen-${config.seed}-${Date.now().toString(36)}/probe.git`);
      })
    : Promise.resolve();
  const open = new Map<object, number>();
  const replication = wanted.has('replication') ? new ReplicationSnapshots(cluster) : undefined;
  for (const event of config.schedule) {
    await sleep(faultStart + event.atMs - Date.now());
    if (event.op === 'stop') await replication?.atStop();
    const at = recorder.now();
    try {
      const applied = await executor.apply(event);
      if (event.op === 'start') await replication?.atStart(applied.nodes);
      recorder.nemesis(event.op, applied.description);
      events.push({ time: at, op: event.op, description: applied.description, nodes: [...applied.nodes] });
      log(`  nemesis ${event.op}: ${applied.description}`);
    } catch (error) {
      recorder.nemesis(event.op, `${describeFault(event.fault)} failed: ${String(error)}`);
      events.push({ time: at, op: event.op, description: `${describeFault(event.fault)} failed: ${String(error)}`, nodes: [] });
    }
    if (event.op === 'start') open.set(event.fault, at);
    else {
      windows.push({ start: open.get(event.fault) ?? at, end: at, name: describeFault(event.fault) });
      open.delete(event.fault);
    }
  }
  await sleep(faultStart + config.faultMs - Date.now());
  await createProbe;
  const healAt = recorder.now();
  for (const [fault, start] of open) windows.push({ start, end: healAt, name: describeFault(fault as never) });
  if (replication !== undefined) probes.replication = await replication.probe();
  await executor.healAll();
  recorder.nemesis('heal', 'heal all: network healed, processes resumed and restarted, clocks reset');
  events.push({ time: healAt, op: 'heal', description: 'heal all', nodes: [] });
  log('  healed; recovery');
  const recoveryStart = Date.now();
  const catchUp = wanted.has('catchUp') ? observer.waitCaughtUp(workload.keys(), CATCH_UP_LIMIT_MS) : undefined;
  const healthy = await observer.waitHealthy(config.recoveryTimeoutMs);
  recorder.nemesis('recovered', healthy ? 'cluster healthy' : `cluster not healthy after ${config.recoveryTimeoutMs} ms`);
  await sleep(recoveryStart + config.recoveryMs - Date.now());
  if (wanted.has('notRunning')) probes.notRunning = notRunning(cluster);
  if (catchUp !== undefined) {
    const c = await catchUp;
    probes.catchUp = { ms: c.ms, outdatedAtHeal: c.outdatedAtStart, stillOutdated: c.stillOutdated.slice(0, 10) };
    log(`  ${c.outdatedAtStart} repositories outdated at the heal; ${c.ms === null ? `${c.stillOutdated.length} still outdated ${CATCH_UP_LIMIT_MS} ms later` : `all caught up ${c.ms} ms later`}`);
  }
  if (wanted.has('outdatedAfterRecovery')) probes.outdatedAfterRecovery = await observer.outdatedRepositories(workload.keys());
  await workers.stop();
  await observer.stop();
  log('  final reads');
  await finalReads(workload, recorder, cluster.routerNames);
  await observer.pollOnce();
  return { windows, events, writers, probes, setupFailures, keys: workload.keys().length };
}

/** Replication outcome counters when the fault starts (after it is applied) and just before it stops. */
class ReplicationSnapshots {
  private readonly metrics: ReadonlyMap<string, string>;
  private faulted: readonly string[] = [];
  private before: OutcomeCounts = {};
  private after: OutcomeCounts | undefined;
  private readonly unreachable = new Set<string>();

  constructor(cluster: TestCluster) {
    this.metrics = new Map(cluster.cluster.routers.map((r) => [r.name, r.metricsAddress]));
  }

  async atStart(faulted: readonly string[]): Promise<void> {
    this.faulted = faulted;
    this.before = await this.scrape();
  }

  async atStop(): Promise<void> {
    this.after = await this.scrape();
  }

  async probe(): Promise<ReplicationProbe> {
    return { faulted: this.faulted, before: this.before, after: this.after ?? (await this.scrape()), unreachable: [...this.unreachable] };
  }

  private async scrape(): Promise<OutcomeCounts> {
    const { counts, unreachable } = await scrapeReplicationOutcomes(this.metrics);
    for (const r of unreachable) this.unreachable.add(r);
    return counts;
  }
}

async function createStatus(clients: ClusterClients, key: string): Promise<string> {
  try {
    await clients.gitaly(clients.routers[0]!).createRepository({ storage_name: clients.virtualStorage, relative_path: key });
    return 'OK';
  } catch (error) {
    return statusName(error) ?? 'UNKNOWN';
  }
}

function notRunning(cluster: TestCluster): string[] {
  const names = [...cluster.routerNames, ...cluster.storageNames, POSTGRES_NODE];
  return names.filter((name) => cluster.process(name).pid === undefined);
}

async function finalReads(workload: Workload, recorder: HistoryRecorder, routers: readonly string[]): Promise<void> {
  let process = 200_000;
  for (const read of workload.finalReads()) {
    await Promise.all(
      routers.map(async (router) => {
        for (let attempt = 0; attempt < FINAL_READ_ATTEMPTS; attempt++) {
          const before = recorder.history().length;
          await runOp(recorder, process++, router, read);
          if (recorder.history()[before + 1]?.type === 'ok') return;
          await sleep(500);
        }
      }),
    );
  }
}

function makeWorkload(config: TestConfig, clients: ClusterClients, options: KeyedWorkloadOptions): Workload {
  const withFailure = options;
  switch (config.workload) {
    case 'register':
      return registerWorkload(clients, withFailure);
    case 'append':
      return appendWorkload(clients, withFailure);
    case 'set-full':
      return setFullWorkload(clients, withFailure);
    case 'cluster-state':
      return clusterStateWorkload(clients, withFailure);
  }
}

function clusterClients(cluster: TestCluster, config: TestConfig): ClusterClients & { close(): void } {
  const gitaly = new Map(cluster.routerNames.map((r) => [r, new GitalyCalls(cluster.clientAddressOf(r), cluster.layout.token, config.opTimeoutMs)]));
  const admin = new Map(cluster.routerNames.map((r) => [r, new AdminClient(cluster.clientAddressOf(r), { token: cluster.layout.token, timeoutMs: config.opTimeoutMs })]));
  return {
    virtualStorage: cluster.layout.virtualStorage,
    routers: cluster.routerNames,
    gitaly: (router) => gitaly.get(router)!,
    admin: (router) => admin.get(router)!,
    close() {
      for (const c of gitaly.values()) c.close();
      for (const c of admin.values()) c.close();
    },
  };
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}


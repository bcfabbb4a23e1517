// A whole cluster on one machine (DESIGN §2): an embedded PostgreSQL, N
// storage nodes and M routers as real processes, all under one folder. A
// second start on the same folder resumes with everything it held.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DatabasePool, EmbeddedDatabase, migrate } from '../db/index.js';
import { findProjectRoot } from '../protocol/index.js';
import { loadOrCreateLayout, type ClusterLayout } from './cluster-layout.js';
import { routerToml, storageNodeToml, type RouterTuning } from './config-files.js';
import { ManagedProcess } from './managed-process.js';

export interface LocalClusterOptions {
  readonly dir: string;
  readonly routers?: number;
  readonly storages?: number;
  readonly monitorIntervalMs?: number;
  readonly tickMs?: number;
  readonly electionTicks?: number;
  readonly logLevel?: string;
  /** TOML tables appended to every router's configuration (e.g. a [transactions] table). */
  readonly routerConfigToml?: string;
  readonly readyTimeoutMs?: number;
  /**
   * The address process `from` must dial to reach `to` (whose real address is
   * `address`): the fault-injection harness puts a proxy on every directed
   * link this way. Names: praefect-N, gitaly-N, postgres. Default: `address`.
   */
  readonly dial?: (from: string, to: string, address: string) => string;
  /**
   * The host each router and storage node listens on, and is dialled at
   * (its own network namespace's address, say). Default: the layout's host.
   * The gateway and PostgreSQL stay on the layout's host.
   */
  readonly hostOf?: (name: string) => string;
  /** Argv that starts a router or storage node (e.g. `ip netns exec <ns>`); see ProcessSpec.commandPrefix. */
  readonly commandPrefix?: (name: string) => readonly string[] | undefined;
  /** Extra environment per process name (e.g. a fake clock for one router). */
  readonly env?: (name: string) => NodeJS.ProcessEnv | undefined;
  /** Progress lines for a person watching. */
  readonly onProgress?: (message: string) => void;
  /** Storage nodes keep a write log (`[audit] write_log`) in their folder; StorageMember.writeLog says where. */
  readonly storageWriteLogs?: boolean;
}

export interface ClusterMember {
  readonly name: string;
  /** host:port of its gRPC listener. */
  readonly address: string;
  readonly process: ManagedProcess;
}

export interface RouterMember extends ClusterMember {
  readonly id: number;
  readonly raftAddress: string;
  readonly metricsAddress: string;
  readonly configFile: string;
}

export interface StorageMember extends ClusterMember {
  readonly storageDir: string;
  /** The node's write log, when storageWriteLogs is on; it rotates to `<writeLog>.1`. */
  readonly writeLog?: string;
}

const DATABASE_NAME = 'praefect';

export class LocalCluster {
  private constructor(
    readonly layout: ClusterLayout,
    readonly database: EmbeddedDatabase,
    readonly storages: readonly StorageMember[],
    readonly routers: readonly RouterMember[],
    readonly gateway: ClusterMember,
  ) {}

  /** The URL prefix plain git clones and pushes through (append the repository's relative path). */
  get gitUrl(): string {
    return `http://${this.gateway.address}`;
  }

  static async start(options: LocalClusterOptions): Promise<LocalCluster> {
    const progress = options.onProgress ?? (() => undefined);
    const layout = await loadOrCreateLayout({ dir: options.dir, routers: options.routers ?? 3, storages: options.storages ?? 3 });
    const logs = path.join(layout.dir, 'logs');
    mkdirSync(logs, { recursive: true });
    progress('starting PostgreSQL');
    const database = await EmbeddedDatabase.start({ dataDir: path.join(layout.dir, 'postgres'), database: DATABASE_NAME, port: layout.postgresPort });
    const started: ManagedProcess[] = [];
    try {
      await migrateDatabase(database);
      const storages = layout.storages.map((_, i) => storageMember(layout, i, logs, options));
      for (const s of storages) progress(`starting storage node ${s.name} on ${s.address}`);
      await startAll(storages.map((s) => s.process), started);
      const routers = layout.routers.map((_, i) => routerMember(layout, i, logs, database, options));
      for (const r of routers) progress(`starting router ${r.name} on ${r.address}`);
      await startAll(routers.map((r) => r.process), started);
      const gateway = gatewayMember(layout, routers, logs, options);
      progress(`starting the git HTTP gateway on ${gateway.address}`);
      await startAll([gateway.process], started);
      return new LocalCluster(layout, database, storages, routers, gateway);
    } catch (error) {
      await Promise.all(started.map((p) => p.stop()));
      await database.stop();
      throw error;
    }
  }

  router(name: string): RouterMember {
    const found = this.routers.find((r) => r.name === name);
    if (found === undefined) throw new RangeError(`no router ${name}; routers are ${this.routers.map((r) => r.name).join(', ')}`);
    return found;
  }

  storage(name: string): StorageMember {
    const found = this.storages.find((s) => s.name === name);
    if (found === undefined) throw new RangeError(`no storage node ${name}; nodes are ${this.storages.map((s) => s.name).join(', ')}`);
    return found;
  }

  /** The gateway first (it holds clients' connections), then routers (they hold the cluster state), then storage nodes, then PostgreSQL. */
  async stop(): Promise<void> {
    await this.gateway.process.stop();
    await Promise.all(this.routers.map((r) => r.process.stop()));
    await Promise.all(this.storages.map((s) => s.process.stop()));
    await this.database.stop();
  }
}

/**
 * Starts processes side by side and waits for every one to settle, so a
 * failure never leaves a sibling still starting (and then orphaned); those
 * that started are recorded for the caller to stop.
 */
async function startAll(processes: readonly ManagedProcess[], started: ManagedProcess[]): Promise<void> {
  const outcomes = await Promise.allSettled(processes.map((p) => p.start()));
  processes.forEach((p, i) => {
    if (outcomes[i]?.status === 'fulfilled') started.push(p);
  });
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}

async function migrateDatabase(database: EmbeddedDatabase): Promise<void> {
  const pool = new DatabasePool({ ...database.connection(), database: DATABASE_NAME });
  try {
    await migrate(pool);
  } finally {
    await pool.close();
  }
}

function distModule(...parts: string[]): string {
  return path.join(findProjectRoot(), 'dist', 'src', ...parts);
}

function storageMember(layout: ClusterLayout, index: number, logs: string, options: LocalClusterOptions): StorageMember {
  const node = layout.storages[index]!;
  const dir = path.join(layout.dir, node.name);
  const storageDir = storageDirOf(layout, node.name);
  mkdirSync(storageDir, { recursive: true });
  const configFile = path.join(dir, 'config.toml');
  const writeLog = storageWriteLogOf(dir, options);
  const host = hostOf(layout, options)(node.name);
  writeFileSync(configFile, storageNodeToml(layout, index, storageDir, hostOf(layout, options), writeLog), { mode: 0o600 });
  const process = new ManagedProcess({
    name: node.name,
    modulePath: distModule('gitaly', 'index.js'),
    exportName: 'main',
    args: [configFile],
    logFile: path.join(logs, `${node.name}.log`),
    readyMessage: 'storage node listening',
    readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
    ...envOf(options, node.name),
    ...prefixOf(options, node.name),
  });
  return { name: node.name, address: `${host}:${node.port}`, storageDir, process, ...(writeLog === undefined ? {} : { writeLog }) };
}

function storageWriteLogOf(nodeDir: string, options: LocalClusterOptions): string | undefined {
  return options.storageWriteLogs === true ? path.join(nodeDir, 'write-log.jsonl') : undefined;
}

function routerMember(layout: ClusterLayout, index: number, logs: string, database: EmbeddedDatabase, options: LocalClusterOptions): RouterMember {
  const router = layout.routers[index]!;
  const dir = path.join(layout.dir, router.name);
  mkdirSync(dir, { recursive: true });
  const tuning: RouterTuning = {
    monitorIntervalMs: options.monitorIntervalMs ?? 1_000,
    tickMs: options.tickMs ?? 100,
    electionTicks: options.electionTicks ?? 10,
    logLevel: options.logLevel ?? 'info',
    extraToml: options.routerConfigToml ?? '',
  };
  const connection = database.connection();
  const configFile = path.join(dir, 'config.toml');
  const db = { host: connection.host, port: connection.port, user: connection.user, dbname: DATABASE_NAME, ...(connection.password === undefined ? {} : { password: connection.password }) };
  const dial = options.dial ?? ((_from: string, _to: string, address: string) => address);
  writeFileSync(configFile, routerToml(layout, router, path.join(dir, 'raft'), db, tuning, dial, hostOf(layout, options)), { mode: 0o600 });
  const host = hostOf(layout, options)(router.name);
  const process = new ManagedProcess({
    name: router.name,
    modulePath: distModule('cli', 'index.js'),
    exportName: 'runPraefectCli',
    args: ['--config', configFile, 'serve'],
    logFile: path.join(logs, `${router.name}.log`),
    readyMessage: 'router listening',
    readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
    ...envOf(options, router.name),
    ...prefixOf(options, router.name),
  });
  return {
    id: router.id,
    name: router.name,
    address: `${host}:${router.port}`,
    raftAddress: `${host}:${router.raftPort}`,
    metricsAddress: `${host}:${router.metricsPort}`,
    configFile,
    process,
  };
}

/** The gateway reaches the routers through one channel over all of them, so it survives any one router's death. */
function gatewayMember(layout: ClusterLayout, routers: readonly RouterMember[], logs: string, options: LocalClusterOptions): ClusterMember {
  const address = `${layout.host}:${layout.gatewayPort}`;
  const process = new ManagedProcess({
    name: 'git-gateway',
    modulePath: distModule('gateway', 'index.js'),
    exportName: 'runGitGatewayCli',
    args: ['--listen', address, '--target', `ipv4:${routers.map((r) => r.address).join(',')}`, '--storage', layout.virtualStorage],
    logFile: path.join(logs, 'git-gateway.log'),
    readyMessage: 'git gateway listening',
    readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
    env: { GIT_GATEWAY_TOKEN: layout.token },
  });
  return { name: 'git-gateway', address, process };
}

/** Where a storage node keeps its repositories (a caller may mount a filesystem there before start). */
export function storageDirOf(layout: ClusterLayout, storage: string): string {
  return path.join(layout.dir, storage, 'storage');
}

function hostOf(layout: ClusterLayout, options: LocalClusterOptions): (name: string) => string {
  return options.hostOf ?? (() => layout.host);
}

function prefixOf(options: LocalClusterOptions, name: string): { commandPrefix?: readonly string[] } {
  const prefix = options.commandPrefix?.(name);
  return prefix === undefined ? {} : { commandPrefix: prefix };
}

function envOf(options: LocalClusterOptions, name: string): { env?: NodeJS.ProcessEnv } {
  const env = options.env?.(name);
  return env === undefined ? {} : { env };
}

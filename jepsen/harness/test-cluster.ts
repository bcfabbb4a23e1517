// The cluster under test: real processes (embedded PostgreSQL, storage nodes,
// routers). With the proxy backend every directed link goes through a fault
// proxy: the layout fixes the ports first, so the Network knows every real
// address before a process starts and each process's configuration names
// proxy endpoints. With netns, each router and storage node runs in its own
// network namespace, listens on its namespace's address, and dials the
// others there directly (a storage node pulls from another one directly);
// only router->PostgreSQL links keep a proxy (see cluster-network.ts).
import { mkdirSync } from 'node:fs';
import { AdminClient } from '../../src/admin/index.js';
import { LocalCluster, loadOrCreateLayout, storageDirOf, type ClusterLayout, type LocalClusterOptions } from '../../src/local-cluster/index.js';
import { Network, NetnsNetwork, formatHostPort } from '../net/index.js';
import { NetnsClusterNetwork, type ClusterNetwork } from './cluster-network.js';
import { onInterrupt } from './interrupt-cleanup.js';
import { DiskFiller } from './nemesis/disk-filler.js';
import type { NetBackend } from './test-config.js';

/** The node that stands for the harness's clients: it dials, nobody dials it. */
export const CLIENT_NODE = 'client';
export const POSTGRES_NODE = 'postgres';

/** A router's client listener as a network node; the router's own name is its Raft listener. */
export function apiNode(router: string): string {
  return `${router}-api`;
}

export interface TestClusterOptions {
  readonly dir: string;
  readonly routers: number;
  readonly storages: number;
  readonly monitorIntervalMs: number;
  readonly tickMs: number;
  readonly electionTicks: number;
  /** Default proxy. */
  readonly net?: NetBackend;
  /** Give every storage node a tmpfs of this size for its storage path (root only), for disk-full faults. */
  readonly storageDiskBytes?: number;
  readonly env?: (name: string) => NodeJS.ProcessEnv | undefined;
  readonly onProgress?: (message: string) => void;
}

/** What a nemesis can do to one process. */
export interface ProcessControl {
  kill(): Promise<void>;
  start(): Promise<unknown>;
  pause(): Promise<void> | void;
  resume(): void;
  readonly pid: number | undefined;
}

export class TestCluster {
  private constructor(
    readonly layout: ClusterLayout,
    readonly network: ClusterNetwork,
    readonly cluster: LocalCluster,
    private readonly clientEndpoints: ReadonlyMap<string, string>,
    private readonly releaseInterrupt: () => void,
    /** The size-limited storage folders, when the run has them. */
    readonly disks: DiskFiller | undefined,
  ) {}

  static async start(options: TestClusterOptions): Promise<TestCluster> {
    mkdirSync(options.dir, { recursive: true });
    const layout = await loadOrCreateLayout({ dir: options.dir, routers: options.routers, storages: options.storages });
    const disks = options.storageDiskBytes === undefined ? undefined : await mountDisks(layout, options.storageDiskBytes, options.onProgress);
    const releaseDisks = disks === undefined ? () => undefined : onInterrupt(() => disks.unmountAll());
    try {
      const started = options.net === 'netns' ? await startInNamespaces(layout, options) : await startBehindProxies(layout, options);
      return new TestCluster(layout, started.network, started.cluster, started.clientEndpoints, () => {
        started.release();
        releaseDisks();
      }, disks);
    } catch (error) {
      await disks?.unmountAll();
      releaseDisks();
      throw error;
    }
  }

  /** A storage node's storage folder. */
  storageDir(name: string): string {
    return this.cluster.storage(name).storageDir;
  }

  get routerNames(): string[] {
    return this.layout.routers.map((r) => r.name);
  }

  get storageNames(): string[] {
    return this.layout.storages.map((s) => s.name);
  }

  /** Where clients reach a router: through the client->router proxy. */
  clientAddressOf(router: string): string {
    const address = this.clientEndpoints.get(router);
    if (address === undefined) throw new RangeError(`no router ${router}`);
    return address;
  }

  /** An admin client for observers (Raft polling, recovery checks): the router's real address, outside any fault. */
  observerAdmin(router: string, timeoutMs = 2_000): AdminClient {
    return new AdminClient(this.cluster.router(router).address, { token: this.layout.token, timeoutMs });
  }

  routerIdName(id: number): string | null {
    return this.layout.routers.find((r) => r.id === id)?.name ?? null;
  }

  process(name: string): ProcessControl {
    if (name === POSTGRES_NODE) {
      const database = this.cluster.database;
      return { kill: () => database.kill(), start: () => database.start(), pause: () => database.pause(), resume: () => database.resume(), pid: database.pid };
    }
    const member = this.cluster.routers.find((r) => r.name === name) ?? this.cluster.storages.find((s) => s.name === name);
    if (member === undefined) throw new RangeError(`no process ${name}`);
    const p = member.process;
    return { kill: () => p.kill(), start: () => p.start(), pause: () => p.pause(), resume: () => p.resume(), get pid() { return p.pid; } };
  }

  async stop(): Promise<void> {
    try {
      await this.cluster.stop();
    } finally {
      await this.network.close();
      await this.disks?.unmountAll();
      this.releaseInterrupt();
    }
  }
}

/** What a backend's start hands back: the network, the cluster, where clients dial, and its interrupt cleanup's release. */
interface StartedBackend {
  readonly network: ClusterNetwork;
  readonly cluster: LocalCluster;
  readonly clientEndpoints: ReadonlyMap<string, string>;
  readonly release: () => void;
}

async function mountDisks(layout: ClusterLayout, sizeBytes: number, progress: ((message: string) => void) | undefined): Promise<DiskFiller> {
  const stale = await DiskFiller.cleanupDeadRuns();
  if (stale.length > 0) progress?.(`unmounted ${stale.length} storage filesystems a dead run left behind`);
  const dirs = layout.storages.map((s) => storageDirOf(layout, s.name));
  progress?.(`storage folders on ${sizeBytes / 1024 / 1024} MiB tmpfs mounts`);
  return DiskFiller.mount(dirs, sizeBytes);
}

function localClusterOptions(options: TestClusterOptions): LocalClusterOptions {
  return {
    dir: options.dir,
    routers: options.routers,
    storages: options.storages,
    monitorIntervalMs: options.monitorIntervalMs,
    tickMs: options.tickMs,
    electionTicks: options.electionTicks,
    // The split-brain check reads what the storage nodes accepted.
    storageWriteLogs: true,
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
  };
}

async function startBehindProxies(layout: ClusterLayout, options: TestClusterOptions): Promise<StartedBackend> {
  const network = new Network();
  try {
    const endpoints = await registerNodes(network, layout);
    const clientEndpoints = new Map<string, string>();
    for (const r of layout.routers) clientEndpoints.set(r.name, await network.endpointFor(CLIENT_NODE, apiNode(r.name)));
    const cluster = await LocalCluster.start({ ...localClusterOptions(options), dial: (from, to, address) => endpoints.get(`${from}\u0000${to}`) ?? address });
    return { network, cluster, clientEndpoints, release: () => undefined };
  } catch (error) {
    await network.close();
    throw error;
  }
}

/** The family of this harness's namespace prefixes (`jh<pid>x<serial>`). */
export const NETNS_FAMILY = 'jh';
let netnsSerial = 0;

/**
 * Namespaces for routers and storage nodes, with a host link so the harness
 * (clients, observer) and the gateway reach them from the host. Runs a
 * crashed harness left behind are removed first.
 */
async function startInNamespaces(layout: ClusterLayout, options: TestClusterOptions): Promise<StartedBackend> {
  const progress = options.onProgress ?? (() => undefined);
  const stale = await NetnsNetwork.cleanupDeadRuns(NETNS_FAMILY);
  if (stale.length > 0) progress(`removed ${stale.length} namespaces a dead run left behind`);
  const names = [...layout.routers.map((r) => r.name), ...layout.storages.map((s) => s.name)];
  const namespaces = await NetnsNetwork.create(names, { prefix: NetnsNetwork.runPrefix(NETNS_FAMILY, netnsSerial++), subnet: await NetnsNetwork.freeSubnet(), hostLink: true });
  const release = onInterrupt(() => namespaces.close());
  progress(`netns ${namespaces.prefix}: ${names.map((n) => `${n}=${namespaces.ipOf(n)}`).join(' ')}; drops by ${namespaces.dropMethod}`);
  const proxied = new Network({ listenHost: namespaces.hostIp });
  const network = new NetnsClusterNetwork(namespaces, proxied, POSTGRES_NODE);
  try {
    proxied.addNode(POSTGRES_NODE, `${layout.host}:${layout.postgresPort}`);
    const toPostgres = new Map<string, string>();
    for (const r of layout.routers) {
      proxied.addNode(r.name);
      toPostgres.set(r.name, await proxied.endpointFor(r.name, POSTGRES_NODE));
    }
    const cluster = await LocalCluster.start({
      ...localClusterOptions(options),
      hostOf: (name) => namespaces.ipOf(name),
      commandPrefix: (name) => namespaces.execPrefix(name),
      dial: (from, to, address) => (to === POSTGRES_NODE ? (toPostgres.get(from) ?? address) : address),
    });
    const clientEndpoints = new Map(cluster.routers.map((r) => [r.name, r.address]));
    return { network, cluster, clientEndpoints, release };
  } catch (error) {
    await network.close();
    release();
    throw error;
  }
}

/** Every node with its real address; proxies for every link a process dials. Returns from\0to -> proxy endpoint. */
async function registerNodes(network: Network, layout: ClusterLayout): Promise<Map<string, string>> {
  const host = layout.host;
  for (const r of layout.routers) network.addNode(r.name, `${host}:${r.raftPort}`);
  for (const r of layout.routers) network.addNode(apiNode(r.name), `${host}:${r.port}`);
  for (const s of layout.storages) network.addNode(s.name, `${host}:${s.port}`);
  network.addNode(POSTGRES_NODE, `${host}:${layout.postgresPort}`);
  network.addNode(CLIENT_NODE);
  const endpoints = new Map<string, string>();
  const targets = [...layout.routers.map((r) => r.name), ...layout.storages.map((s) => s.name), POSTGRES_NODE];
  for (const r of layout.routers) {
    for (const to of targets) {
      if (to === r.name) continue;
      endpoints.set(`${r.name}\u0000${to}`, formatHostPort(await network.addressFor(r.name, to)));
    }
  }
  return endpoints;
}

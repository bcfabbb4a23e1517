// The cluster under test: real processes (embedded PostgreSQL, storage nodes,
// routers) whose every directed link goes through a fault proxy. The layout
// fixes the ports first, so the Network knows every real address before a
// process starts and each process's configuration names proxy endpoints.
import { mkdirSync } from 'node:fs';
import { AdminClient } from '../../src/admin/index.js';
import { LocalCluster, loadOrCreateLayout, type ClusterLayout } from '../../src/local-cluster/index.js';
import { Network, formatHostPort } from '../net/index.js';

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
    readonly network: Network,
    readonly cluster: LocalCluster,
    private readonly clientEndpoints: ReadonlyMap<string, string>,
  ) {}

  static async start(options: TestClusterOptions): Promise<TestCluster> {
    mkdirSync(options.dir, { recursive: true });
    const layout = await loadOrCreateLayout({ dir: options.dir, routers: options.routers, storages: options.storages });
    const network = new Network();
    try {
      const endpoints = await registerNodes(network, layout);
      const clientEndpoints = new Map<string, string>();
      for (const r of layout.routers) clientEndpoints.set(r.name, await network.endpointFor(CLIENT_NODE, apiNode(r.name)));
      const cluster = await LocalCluster.start({
        dir: options.dir,
        routers: options.routers,
        storages: options.storages,
        monitorIntervalMs: options.monitorIntervalMs,
        tickMs: options.tickMs,
        electionTicks: options.electionTicks,
        dial: (from, to, address) => endpoints.get(`${from}\u0000${to}`) ?? address,
        storageWriteLogs: true,
        ...(options.env === undefined ? {} : { env: options.env }),
        ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
      });
      return new TestCluster(layout, network, cluster, clientEndpoints);
    } catch (error) {
      await network.close();
      throw error;
    }
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
    }
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

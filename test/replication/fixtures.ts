// A small cluster for replication tests: real storage nodes (in-process, real
// git repositories on disk), a real embedded PostgreSQL with the queue, and
// the cluster state in a MemoryClusterLog driven by a test clock.
import net from 'node:net';
import type { Test } from 'tap';
import { derivedReplicaPath, MemoryClusterLog, type ClusterAccess } from '../../src/cluster/index.js';
import type { VirtualStorageConfig } from '../../src/config/index.js';
import { ReplicationQueue, type DatabasePool, type EmbeddedDatabase, type ReplicationQueueOptions } from '../../src/db/index.js';
import { NodeDirectory } from '../../src/config/index.js';
import { freshDatabase } from '../db/test-server.js';
import { startInProcessNode, type TestNode } from '../gitaly/fixtures/node.js';
import { Rpc } from '../gitaly/fixtures/rpc.js';

export const VIRTUAL_STORAGE = 'default';
// Per process: the storage nodes are shared by subtests, so replica paths must not repeat.
let nextRepositoryId = 1;
export const STORAGES = ['gitaly-1', 'gitaly-2', 'gitaly-3'] as const;

export interface StorageNode {
  readonly storage: string;
  readonly node: TestNode;
  readonly rpc: Rpc;
}

/** Three storage nodes, one storage each; shared by the subtests of a file. */
export async function startStorageNodes(t: Test): Promise<StorageNode[]> {
  const nodes = await Promise.all(
    STORAGES.map(async (storage) => {
      const node = await startInProcessNode({ storages: [storage] });
      return { storage, node, rpc: new Rpc(node.address) };
    }),
  );
  t.teardown(async () => {
    for (const n of nodes) n.rpc.close();
    await Promise.all(nodes.map((n) => n.node.close()));
  });
  return nodes;
}

/** A loopback port nothing listens on (connections are refused at once). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export function virtualStorageConfig(nodes: readonly StorageNode[], extra: Array<{ storage: string; address: string }> = []): VirtualStorageConfig {
  return {
    name: VIRTUAL_STORAGE,
    defaultReplicationFactor: 0,
    nodes: [...nodes.map((n) => ({ storage: n.storage, address: `tcp://${n.node.address}`, token: '' })), ...extra.map((e) => ({ ...e, token: '' }))],
  };
}

/** The cluster state of one test: a clock, the log, and the routers' accesses. */
export class TestCluster {
  nowMs = 1_700_000_000_000;
  readonly log = new MemoryClusterLog(() => this.nowMs);
  readonly a: ClusterAccess;
  readonly queue: ReplicationQueue;
  readonly directory: NodeDirectory;

  constructor(
    readonly pool: DatabasePool,
    readonly nodes: readonly StorageNode[],
    readonly vs: VirtualStorageConfig,
    queueOptions: ReplicationQueueOptions = {},
  ) {
    this.a = this.log.access('router-a');
    this.queue = new ReplicationQueue(pool, queueOptions);
    this.directory = new NodeDirectory([vs]);
  }

  /** `router` reports every configured storage healthy (and refreshes its liveness). */
  async reportHealthy(router: string): Promise<void> {
    const result = await this.log.propose(router, {
      type: 'health-update',
      reports: this.vs.nodes.map((n) => ({ virtualStorage: VIRTUAL_STORAGE, storage: n.storage, healthy: true })),
    });
    if (result.status !== 'ok') throw new Error(`health-update: ${JSON.stringify(result)}`);
  }

  /** An empty repository on every node, recorded in Raft with every replica at generation 0. */
  async createRepository(relativePath: string): Promise<{ repositoryId: number; replicaPath: string }> {
    const repositoryId = nextRepositoryId++;
    const replicaPath = derivedReplicaPath(repositoryId);
    for (const n of this.nodes) {
      await n.rpc.unary('/gitaly.RepositoryService/CreateRepository', { repository: { storage_name: n.storage, relative_path: replicaPath } });
    }
    const [primary, ...secondaries] = this.nodes.map((n) => n.storage);
    const result = await this.a.propose({
      type: 'create-repository',
      repositoryId,
      virtualStorage: VIRTUAL_STORAGE,
      relativePath,
      replicaPath,
      primary: primary as string,
      assigned: [],
      updatedSecondaries: secondaries,
    });
    if (result.status !== 'ok') throw new Error(`create-repository: ${JSON.stringify(result)}`);
    return { repositoryId, replicaPath };
  }

  node(storage: string): StorageNode {
    const found = this.nodes.find((n) => n.storage === storage);
    if (found === undefined) throw new Error(`no node ${storage}`);
    return found;
  }

  /** A commit on one replica only, as a mutator forwarded to it would make. */
  async commitOn(storage: string, replicaPath: string, file: string, content: string): Promise<string> {
    const repository = { storage_name: storage, relative_path: replicaPath };
    const user = { gl_id: 'user-1', name: Buffer.from('Jane'), email: Buffer.from('jane@example.com'), gl_username: 'jane', timezone: 'UTC' };
    const response = await this.node(storage).rpc.clientStream<{ branch_update: { commit_id: string } }>('/gitaly.OperationService/UserCommitFiles', [
      { header: { repository, user, branch_name: Buffer.from('main'), commit_message: Buffer.from(`add ${file}`) } },
      { action: { header: { action: 'CREATE', file_path: Buffer.from(file) } } },
      { action: { content: Buffer.from(content) } },
    ]);
    return response.branch_update.commit_id;
  }

  /** After a write on the primary: its generation goes up in Raft. */
  async bump(repositoryId: number, primary: string, generation: number): Promise<number> {
    const result = await this.a.propose({ type: 'bump-generation', repositoryId, primary, generation, intentId: null, updatedSecondaries: [] });
    if (result.status !== 'ok') throw new Error(`bump-generation: ${JSON.stringify(result)}`);
    return result.generation;
  }

  async checksum(storage: string, replicaPath: string): Promise<string> {
    const response = await this.node(storage).rpc.unary<{ checksum: string }>('/gitaly.RepositoryService/CalculateChecksum', {
      repository: { storage_name: storage, relative_path: replicaPath },
    });
    return response.checksum;
  }

  generations(repositoryId: number): Record<string, number> {
    return { ...this.a.view.repository(repositoryId)?.generations };
  }

  async queueRows(): Promise<Array<{ id: number; state: string; target: string; source: string | null; attempts_made: number }>> {
    const result = await this.pool.query<{ id: string; state: string; target: string; source: string | null; attempts_made: number }>(
      'SELECT id, state, target_storage AS target, source_storage AS source, attempts_made FROM replication_queue ORDER BY id',
    );
    return result.rows.map((row) => ({ ...row, id: Number(row.id) }));
  }
}

/** A new database on the shared server, a cluster whose router-a reports every storage healthy. */
export async function newCluster(
  t: Test,
  server: EmbeddedDatabase,
  nodes: readonly StorageNode[],
  options: { extraNodes?: Array<{ storage: string; address: string }>; queue?: ReplicationQueueOptions } = {},
): Promise<TestCluster> {
  const pool = await freshDatabase(t, server);
  const cluster = new TestCluster(pool, nodes, virtualStorageConfig(nodes, options.extraNodes), options.queue);
  await cluster.reportHealthy('router-a');
  return cluster;
}

/** Polls `condition` until it holds or the deadline passes. */
export async function eventually<T>(what: string, condition: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

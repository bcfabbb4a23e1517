// The cluster Router's decisions, called directly (no bytes forwarded) over
// an in-memory cluster log shared by three routers and a real PostgreSQL.
import * as grpc from '@grpc/grpc-js';
import t, { type Test } from 'tap';
import { MemoryClusterLog, type ClusterAccess } from '../../src/cluster/index.js';
import { NodeDirectory } from '../../src/config/index.js';
import { createClusterRouter, PostgresCatalogue, STALE_READ_METADATA_KEY, type ClusterRouterOptions } from '../../src/coordinator/index.js';
import { ReplicationQueue, RepositoryStore, type ReplicationJob } from '../../src/db/index.js';
import { gitalyProtocol } from '../../src/protocol/index.js';
import { RoutingError, type Route, type RouteRequest, type Router } from '../../src/proxy/index.js';
import { freshDatabase, startTestServer } from '../db/test-server.js';

const VS = 'default';
const STORAGES = ['gitaly-1', 'gitaly-2', 'gitaly-3'];
const nodes = new NodeDirectory([
  { name: VS, defaultReplicationFactor: 0, nodes: STORAGES.map((storage, i) => ({ storage, address: `127.0.0.1:${9001 + i}`, token: '' })) },
]);
const OK: grpc.StatusObject = { code: grpc.status.OK, details: '', metadata: new grpc.Metadata() };
const FAILED: grpc.StatusObject = { code: grpc.status.INTERNAL, details: 'boom', metadata: new grpc.Metadata() };

function request(method: string, relativePath: string, metadata = new grpc.Metadata()): RouteRequest {
  const info = gitalyProtocol().registry.get(method);
  if (info === undefined) throw new Error(`no method ${method}`);
  return { method: info, metadata, repository: { storage_name: VS, relative_path: relativePath } };
}

async function reportHealth(access: ClusterAccess, healthy: Record<string, boolean>): Promise<void> {
  await access.propose({ type: 'health-update', reports: STORAGES.map((storage) => ({ virtualStorage: VS, storage, healthy: healthy[storage] ?? true })) });
}

function codeOf(error: unknown): string {
  return error instanceof RoutingError ? error.code : `not a RoutingError: ${String(error)}`;
}

async function finish(route: Route, status = OK): Promise<void> {
  await route.onFinish?.(status);
}

t.test('cluster router', async (t) => {
  const server = await startTestServer(t);
  const clockMs = 1_000_000;

  async function setup(t: Test, extra: Partial<ClusterRouterOptions> = {}) {
    const pool = await freshDatabase(t, server);
    const store = new RepositoryStore(pool);
    const queue = new ReplicationQueue(pool);
    const log = new MemoryClusterLog(() => clockMs);
    const accesses = ['a', 'b', 'c'].map((name) => log.access(name));
    for (const access of accesses) await reportHealth(access, {});
    let seed = 1;
    const routers: Router[] = accesses.map((access) =>
      createClusterRouter({
        access,
        nodes,
        reachable: () => true,
        catalogue: new PostgresCatalogue(store),
        jobs: queue,
        random: () => ((seed = (seed * 48271) % 2147483647) / 2147483647),
        ...extra,
      }),
    );
    return { pool, store, queue, log, accesses, routers };
  }

  async function create(router: Router, path: string): Promise<Route> {
    const route = await router(request('/gitaly.RepositoryService/CreateRepository', path));
    await finish(route);
    return route;
  }

  /** Dequeues until a job matching `wanted` shows up (enqueueing happens in the background), or the deadline passes. */
  async function waitForJob(queue: ReplicationQueue, wanted: (job: ReplicationJob) => boolean): Promise<ReplicationJob | undefined> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const found = (await queue.dequeue({ virtualStorage: VS, targets: STORAGES, limit: 100 })).find(wanted);
      if (found !== undefined) return found;
      await new Promise((r) => setTimeout(r, 10));
    }
    return undefined;
  }

  async function jobsFor(queue: ReplicationQueue, repositoryId: number, expected: number): Promise<ReplicationJob[]> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const depth = await queue.depth();
      const total = depth.reduce((n, row) => n + row.count, 0);
      if (total >= expected || Date.now() > deadline) break;
      await new Promise((r) => setImmediate(r));
    }
    const claimed = await queue.dequeue({ virtualStorage: VS, targets: STORAGES, limit: 100 });
    return claimed.filter((job) => job.repositoryId === repositoryId);
  }

  t.test('creation allocates the id in PostgreSQL, records it in Raft after the primary succeeds, and queues the other replicas', async (t) => {
    const { store, queue, log, routers } = await setup(t);
    const route = await routers[0]!(request('/gitaly.RepositoryService/CreateRepository', 'group/one.git'));
    const row = await store.get(VS, 'group/one.git');
    t.ok(row, 'the catalogue has the repository before the node is called');
    t.match(route.rewrite?.relativePath, /^@cluster\/repositories\/[0-9a-f]{2}\/[0-9a-f]{2}\/\d+$/, 'the node sees the replica path');
    t.equal(log.stateMachine.view.repositoryId(VS, 'group/one.git'), undefined, 'not in the cluster state before the node answered');
    await finish(route);
    const id = log.stateMachine.view.repositoryId(VS, 'group/one.git');
    t.equal(id, row!.repositoryId, 'Raft holds the id PostgreSQL allocated');
    const view = log.stateMachine.view.repository(id!)!;
    t.same([...view.assigned].sort(), STORAGES, 'replication factor 0 assigns every storage');
    t.equal(view.primary, route.rewrite?.storageName, 'the primary is the storage the call went to');
    const jobs = await jobsFor(queue, id!, 2);
    t.same(jobs.map((j) => j.targetStorage).sort(), STORAGES.filter((s) => s !== view.primary), 'update jobs for the two other replicas');
    t.ok(jobs.every((j) => j.sourceStorage === view.primary && j.changeType === 'update'));

    const again = await routers[1]!(request('/gitaly.RepositoryService/CreateRepository', 'group/one.git')).catch(codeOf);
    t.equal(again, 'ROUTE_ALREADY_EXISTS', 'a second creation through another router is refused');
  });

  t.test('a replication factor assigns that many storages, the primary among them', async (t) => {
    const twoCopies = new NodeDirectory([{ name: VS, defaultReplicationFactor: 2, nodes: STORAGES.map((storage, i) => ({ storage, address: `127.0.0.1:${9001 + i}`, token: '' })) }]);
    const { log, routers, queue } = await setup(t, { nodes: twoCopies });
    await create(routers[0]!, 'two.git');
    const view = log.stateMachine.view.repository(log.stateMachine.view.repositoryId(VS, 'two.git')!)!;
    t.equal(view.assigned.length, 2);
    t.ok(view.assigned.includes(view.primary!), 'the primary is assigned');
    const jobs = await jobsFor(queue, view.repositoryId, 1);
    t.same(jobs.map((j) => j.targetStorage), view.assigned.filter((s) => s !== view.primary), 'one job, to the other assigned storage');
  });

  t.test('a failed creation leaves neither a Raft record nor a catalogue row', async (t) => {
    const { store, log, routers } = await setup(t);
    const route = await routers[0]!(request('/gitaly.RepositoryService/CreateRepository', 'failed.git'));
    await finish(route, FAILED);
    t.equal(log.stateMachine.view.repositoryId(VS, 'failed.git'), undefined);
    const deadline = Date.now() + 10_000;
    while ((await store.get(VS, 'failed.git')) !== undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    t.equal(await store.get(VS, 'failed.git'), undefined, 'the row is deleted again');
  });

  t.test('without a catalogue, creation is UNAVAILABLE and existing repositories still route', async (t) => {
    const { routers, accesses, store, queue } = await setup(t);
    await create(routers[0]!, 'kept.git');
    const noDb = createClusterRouter({ access: accesses[1]!, nodes, reachable: () => true, jobs: queue });
    t.equal(await noDb(request('/gitaly.RepositoryService/CreateRepository', 'new.git')).catch(codeOf), 'ROUTE_UNAVAILABLE');
    const write = await noDb(request('/gitaly.RefService/DeleteRefs', 'kept.git'));
    await finish(write);
    t.ok(write.target.address, 'writes to an existing repository are routed');
    t.ok(await store.get(VS, 'kept.git'));
  });

  t.test('a write bumps the primary generation before finishing; reads then avoid the outdated replicas', async (t) => {
    const { log, routers } = await setup(t);
    await create(routers[0]!, 'w.git');
    const id = log.stateMachine.view.repositoryId(VS, 'w.git')!;
    const primary = log.stateMachine.view.repository(id)!.primary!;
    const write = await routers[1]!(request('/gitaly.RefService/DeleteRefs', 'w.git'));
    t.equal(write.rewrite?.storageName, primary, 'mutators go to the primary');
    t.equal(log.stateMachine.view.repository(id)!.writeIntents.length, 1, 'the write intent is recorded before forwarding');
    await finish(write);
    const after = log.stateMachine.view.repository(id)!;
    t.equal(after.generations[primary], 1, 'the bump committed before onFinish resolved');
    t.equal(after.writeIntents.length, 0, 'the bump cleared the intent');
    for (let i = 0; i < 20; i++) {
      const read = await routers[2]!(request('/gitaly.RefService/FindBranch', 'w.git'));
      t.equal(read.rewrite?.storageName, primary, 'only the up-to-date replica serves reads');
    }
  });

  t.test('reads spread over up-to-date replicas; primary-only forces the primary', async (t) => {
    const { log, routers, accesses } = await setup(t);
    await create(routers[0]!, 'r.git');
    const id = log.stateMachine.view.repositoryId(VS, 'r.git')!;
    const primary = log.stateMachine.view.repository(id)!.primary!;
    for (const s of STORAGES.filter((s) => s !== primary)) {
      await accesses[0]!.propose({ type: 'set-replica-generation', repositoryId: id, storage: s, generation: 0, expectedGeneration: null });
    }
    const seen = new Set<string>();
    for (let i = 0; i < 60; i++) seen.add((await routers[1]!(request('/gitaly.RefService/FindBranch', 'r.git'))).rewrite!.storageName);
    t.same([...seen].sort(), STORAGES, 'every up-to-date replica serves reads');
    const metadata = new grpc.Metadata();
    metadata.set('gitaly-route-repository-accessor-policy', 'primary-only');
    for (let i = 0; i < 10; i++) t.equal((await routers[1]!(request('/gitaly.RefService/FindBranch', 'r.git', metadata))).rewrite!.storageName, primary);
  });

  t.test('an unhealthy primary with only outdated candidates: writes are refused, never sent to an outdated replica', async (t) => {
    const { log, routers, accesses } = await setup(t);
    await create(routers[0]!, 'e.git');
    const id = log.stateMachine.view.repositoryId(VS, 'e.git')!;
    const primary = log.stateMachine.view.repository(id)!.primary!;
    await finish(await routers[0]!(request('/gitaly.RefService/DeleteRefs', 'e.git')));
    for (const access of accesses.slice(0, 2)) await reportHealth(access, { [primary]: false });
    const refused = await routers[1]!(request('/gitaly.RefService/DeleteRefs', 'e.git')).catch((e: unknown) => e);
    t.equal(codeOf(refused), 'ROUTE_UNAVAILABLE', 'never a write to an outdated replica');
    t.match((refused as Error).message, /no replica on the latest generation is healthy by quorum/, 'the error says why');
    t.equal(log.stateMachine.view.repository(id)!.primary, primary, 'no election moved the primary to an outdated replica');
    const read = await routers[2]!(request('/gitaly.RefService/FindBranch', 'e.git')).catch(codeOf);
    t.equal(read, 'ROUTE_UNAVAILABLE', 'no healthy replica holds the latest data');
  });

  t.test('three routers electing at once yield exactly one primary', async (t) => {
    const { log, routers, accesses } = await setup(t);
    await create(routers[0]!, 'x.git');
    const id = log.stateMachine.view.repositoryId(VS, 'x.git')!;
    const old = log.stateMachine.view.repository(id)!.primary!;
    for (const s of STORAGES) await accesses[0]!.propose({ type: 'set-replica-generation', repositoryId: id, storage: s, generation: 0, expectedGeneration: null });
    for (const access of accesses) await reportHealth(access, { [old]: false });
    const routes = await Promise.all(routers.map((router) => router(request('/gitaly.RefService/DeleteRefs', 'x.git'))));
    const targets = new Set(routes.map((r) => r.rewrite!.storageName));
    t.equal(targets.size, 1, `all three writes went to one new primary: ${[...targets].join(',')}`);
    t.not([...targets][0], old);
    t.equal(log.stateMachine.view.repository(id)!.primary, [...targets][0]);
    const results = await Promise.allSettled(routes.map((r) => finish(r)));
    t.equal(results.filter((r) => r.status === 'fulfilled').length, 3, 'concurrent writes to the same primary all count');
    const after = log.stateMachine.view.repository(id)!;
    t.equal(after.generations[[...targets][0]!], 3, 'each bump raised the generation once');
    t.equal(after.writeIntents.length, 0);
  });

  t.test('a failover during the call makes the bump fail with ABORTED and repairs the written replica', async (t) => {
    const { log, routers, accesses, queue } = await setup(t);
    await create(routers[0]!, 'f.git');
    const id = log.stateMachine.view.repositoryId(VS, 'f.git')!;
    const old = log.stateMachine.view.repository(id)!.primary!;
    for (const s of STORAGES) await accesses[0]!.propose({ type: 'set-replica-generation', repositoryId: id, storage: s, generation: 0, expectedGeneration: null });
    await jobsFor(queue, id, 2);
    const write = await routers[0]!(request('/gitaly.RefService/DeleteRefs', 'f.git'));
    for (const access of accesses) await reportHealth(access, { [old]: false });
    await routers[1]!(request('/gitaly.RefService/DeleteRefs', 'f.git'));
    const next = log.stateMachine.view.repository(id)!.primary!;
    t.not(next, old, 'a new primary was elected while the first write was in flight');
    t.equal(codeOf(await finish(write).catch((e: unknown) => e)), 'ROUTE_ABORTED');
    const repair = await waitForJob(queue, (j) => j.repositoryId === id && j.targetStorage === old);
    t.equal(repair?.sourceStorage, next, 'the replica that took the write is repaired from the current primary');
  });

  t.test('a failed write settles its intent', async (t) => {
    const { log, routers } = await setup(t);
    await create(routers[0]!, 's.git');
    const id = log.stateMachine.view.repositoryId(VS, 's.git')!;
    const write = await routers[0]!(request('/gitaly.RefService/DeleteRefs', 's.git'));
    await finish(write, FAILED);
    const deadline = Date.now() + 10_000;
    while (log.stateMachine.view.repository(id)!.writeIntents.length > 0 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    t.equal(log.stateMachine.view.repository(id)!.writeIntents.length, 0);
  });

  t.test('removal goes through Raft and the catalogue, and queues deletion of the other replicas', async (t) => {
    const { log, routers, store, accesses } = await setup(t);
    await create(routers[0]!, 'd.git');
    const id = log.stateMachine.view.repositoryId(VS, 'd.git')!;
    for (const s of STORAGES) await accesses[0]!.propose({ type: 'set-replica-generation', repositoryId: id, storage: s, generation: 0, expectedGeneration: null });
    await finish(await routers[1]!(request('/gitaly.RepositoryService/RemoveRepository', 'd.git')));
    t.equal(log.stateMachine.view.repositoryId(VS, 'd.git'), undefined, 'every router forgets it');
    const deadline = Date.now() + 10_000;
    while ((await store.get(VS, 'd.git')) !== undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    t.equal(await store.get(VS, 'd.git'), undefined);
    t.equal(codeOf(await routers[2]!(request('/gitaly.RefService/FindBranch', 'd.git')).catch((e: unknown) => e)), 'ROUTE_NOT_FOUND');
  });

  t.test('refusals: unknown virtual storage, unknown repository, unreachable primary, lost quorum', async (t) => {
    const { log, routers, accesses } = await setup(t);
    const bad = { ...request('/gitaly.RefService/FindBranch', 'a.git'), repository: { storage_name: 'nope', relative_path: 'a.git' } };
    const invalid = await routers[0]!(bad).catch((e: unknown) => e);
    t.equal(codeOf(invalid), 'ROUTE_INVALID');
    t.match((invalid as Error).message, /repository\.storage_name/);
    t.equal(codeOf(await routers[0]!(request('/gitaly.RefService/FindBranch', 'missing.git')).catch((e: unknown) => e)), 'ROUTE_NOT_FOUND');
    await create(routers[0]!, 'u.git');
    const primary = log.stateMachine.view.repository(log.stateMachine.view.repositoryId(VS, 'u.git')!)!.primary!;
    const blind = createClusterRouter({ access: accesses[2]!, nodes, reachable: (_vs, s) => s !== primary });
    t.equal(codeOf(await blind(request('/gitaly.RefService/DeleteRefs', 'u.git')).catch((e: unknown) => e)), 'ROUTE_UNAVAILABLE', 'never sent to a node this router cannot reach');
    log.unavailable = new Error('no quorum');
    t.equal(codeOf(await routers[1]!(request('/gitaly.RefService/FindBranch', 'u.git')).catch((e: unknown) => e)), 'ROUTE_UNAVAILABLE', 'fresh routing fails closed without quorum');
  });

  t.test('without quorum, with staleReads: reads go on from local state marked stale, writes fail closed', async (t) => {
    const staleWhy: string[] = [];
    const { routers, log } = await setup(t, { staleReads: { afterMs: 50, onStaleRead: (why) => staleWhy.push(why) } });
    await create(routers[0]!, 'stale.git');
    const fresh = await routers[1]!(request('/gitaly.RefService/FindBranch', 'stale.git'));
    t.equal(fresh.responseMetadata?.[STALE_READ_METADATA_KEY], undefined, 'a read with quorum is not marked');
    log.unavailable = new Error('no quorum');
    const stale = await routers[1]!(request('/gitaly.RefService/FindBranch', 'stale.git'));
    t.equal(stale.responseMetadata?.[STALE_READ_METADATA_KEY], 'stale', 'the read is routed and marked stale');
    t.match(staleWhy, [/no quorum/], 'the reason is reported');
    t.equal(codeOf(await routers[1]!(request('/gitaly.RefService/DeleteRefs', 'stale.git')).catch((e: unknown) => e)), 'ROUTE_UNAVAILABLE', 'a write fails closed');
  });
});

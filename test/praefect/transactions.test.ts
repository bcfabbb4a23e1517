// Issue 7 §5 through a real router: reference transactions with real storage
// nodes voting through git's reference-transaction hook, faults injected with
// node failpoints (GITALY_FAILPOINTS) and with fault proxies on the router's
// links to the nodes.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import type { RepositoryMetadataResponse } from '../../src/admin/index.js';
import { loadOrCreateLayout } from '../../src/local-cluster/index.js';
import { BLACKHOLE, delayMode, FaultProxy, formatHostPort, PASS } from '../../jepsen/net/index.js';
import { git, makeGitHome } from '../gateway/git-cli.js';
import { statusOf, type Rpc } from '../gitaly/fixtures/rpc.js';
import { commitFile, replicaBranch, replicaChecksums, repo, startCluster, waitFor, type TestCluster } from './fixtures/cluster.js';

const MONITOR_INTERVAL_MS = 500;
const VOTE_TIMEOUT_MS = 2_000;
const RETRYABLE = [grpc.status.UNAVAILABLE, grpc.status.ABORTED, grpc.status.DEADLINE_EXCEEDED, grpc.status.CANCELLED];
const TRANSACTIONS_TOML = ['[transactions]', `vote_timeout = "${VOTE_TIMEOUT_MS}ms"`, 'secondary_timeout = "1500ms"', ''].join('\n');

async function metadata(tc: TestCluster, relativePath: string): Promise<RepositoryMetadataResponse> {
  return tc.admins[0]!.repositoryMetadata({ virtual_storage: 'default', relative_path: relativePath, fresh: true });
}

function generations(meta: RepositoryMetadataResponse): Record<string, number> {
  return Object.fromEntries(meta.replicas.map((r) => [r.storage, r.generation]));
}

async function waitLevel(tc: TestCluster, relativePath: string): Promise<RepositoryMetadataResponse> {
  return waitFor(`every replica of ${relativePath} on one generation`, async () => {
    const meta = await metadata(tc, relativePath);
    return meta.replicas.length === 3 && meta.replicas.every((r) => r.generation === meta.generation && r.healthy) ? meta : undefined;
  });
}

async function newRepository(tc: TestCluster, relativePath: string): Promise<RepositoryMetadataResponse> {
  await tc.rpcs[0]!.unary('/gitaly.RepositoryService/CreateRepository', { repository: repo(relativePath) });
  await commitFile(tc.rpcs[0]!, relativePath, 'main', 'seed.txt', 'seed\n');
  return waitLevel(tc, relativePath);
}

async function counter(tc: TestCluster, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`http://${tc.cluster.routers[0]!.metricsAddress}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function restartStorage(tc: TestCluster, storage: string, env: NodeJS.ProcessEnv): Promise<void> {
  const node = tc.cluster.storage(storage);
  await node.process.kill();
  await node.process.start(env);
  await waitFor(`${storage} healthy by quorum`, async () => {
    const state = await tc.admins[0]!.clusterState(true);
    return state.storages.find((s) => s.storage === storage)?.healthy === true ? true : undefined;
  });
}

t.test('reference transactions through the router', async (t) => {
  const proxies = new Map<string, FaultProxy>();
  t.teardown(async () => {
    for (const proxy of proxies.values()) await proxy.close();
  });
  // A proxy on the router's link to each storage node, in pass mode until a test cuts or slows it.
  const tc = await startCluster(t, { routers: 1, storages: 3, monitorIntervalMs: MONITOR_INTERVAL_MS, routerConfigToml: TRANSACTIONS_TOML }, async (dir) => {
    const layout = await loadOrCreateLayout({ dir, routers: 1, storages: 3 });
    for (const storage of layout.storages) {
      const proxy = new FaultProxy({ name: `praefect-1->${storage.name}`, target: { host: layout.host, port: storage.port } });
      await proxy.start();
      proxies.set(storage.name, proxy);
    }
    return { dial: (_from, to, address) => (proxies.has(to) ? formatHostPort(proxies.get(to)!.address) : address) };
  });
  const router = tc.rpcs[0] as Rpc;

  t.test('a new repository is created on every healthy assigned replica at once, all on generation 0', async (t) => {
    await router.unary('/gitaly.RepositoryService/CreateRepository', { repository: repo('tx/created.git') });
    const meta = await metadata(tc, 'tx/created.git');
    t.same(Object.values(generations(meta)), [0, 0, 0], `no replica waits for replication: ${JSON.stringify(generations(meta))}`);
  });

  t.test('a write lands on all three replicas at once: one checksum, every generation bumped, no replication', async (t) => {
    const before = await newRepository(tc, 'tx/all.git');
    const registered = await counter(tc, 'gitaly_praefect_transactions_total', 'action="registered"');
    await commitFile(router, 'tx/all.git', 'main', 'a.txt', 'a\n');
    const after = await metadata(tc, 'tx/all.git');
    t.same(
      Object.values(generations(after)),
      [before.generation + 1, before.generation + 1, before.generation + 1],
      `all three moved to ${before.generation + 1} with the acknowledgement: ${JSON.stringify(generations(after))}`,
    );
    const sums = Object.values(await replicaChecksums(tc, after.replica_path));
    t.equal(new Set(sums).size, 1, `one checksum on all three replicas: ${sums.join(' ')}`);
    t.equal(await counter(tc, 'gitaly_praefect_transactions_total', 'action="registered"'), registered + 3, 'one transaction of three voters');
  });

  t.test('a git push through the gateway runs as a transaction on all three replicas', async (t) => {
    const home = await makeGitHome();
    const work = await mkdtemp(path.join(tmpdir(), 'tx-push-'));
    const src = path.join(work, 'src');
    await git(home, work, ['init', '-q', '-b', 'main', 'src']);
    await git(home, src, ['commit', '-q', '--allow-empty', '-m', 'pushed']);
    const head = (await git(home, src, ['rev-parse', 'HEAD'])).trim();
    await tc.rpcs[0]!.unary('/gitaly.RepositoryService/CreateRepository', { repository: repo('tx/pushed.git') });
    const before = await waitLevel(tc, 'tx/pushed.git');
    await git(home, src, ['push', '-q', `${tc.cluster.gitUrl}/tx/pushed.git`, 'main']);
    const after = await metadata(tc, 'tx/pushed.git');
    t.ok(after.replicas.every((r) => r.generation === before.generation + 1), `every replica bumped by the push: ${JSON.stringify(generations(after))}`);
    for (const storage of tc.cluster.storages) t.equal(await replicaBranch(tc, storage.name, after.replica_path, 'main'), head, `${storage.name} has the pushed commit`);
  });

  t.test('a secondary that votes differently is cancelled; the write succeeds and the secondary is replicated', async (t) => {
    const before = await newRepository(tc, 'tx/dissent.git');
    const dissenter = before.replicas.find((r) => r.storage !== before.primary)!.storage;
    await restartStorage(tc, dissenter, { GITALY_FAILPOINTS: 'vote=corrupt' });
    const failedBefore = await counter(tc, 'gitaly_praefect_tx_replications_total', 'reason="node-error-status"');
    const commit = await commitFile(router, 'tx/dissent.git', 'main', 'b.txt', 'b\n');
    const after = await metadata(tc, 'tx/dissent.git');
    const gens = generations(after);
    t.equal(gens[dissenter], before.generation, `the dissenter ${dissenter} stays behind`);
    t.equal(after.replicas.filter((r) => r.generation === before.generation + 1).length, 2, `the primary and the agreeing secondary moved: ${JSON.stringify(gens)}`);
    t.equal(await replicaBranch(tc, dissenter, after.replica_path, 'main') === commit, false, 'the dissenter did not commit the update');
    t.equal(await counter(tc, 'gitaly_praefect_tx_replications_total', 'reason="node-error-status"'), failedBefore + 1, 'its replication job is counted with its reason');
    await restartStorage(tc, dissenter, {});
    const level = await waitLevel(tc, 'tx/dissent.git');
    t.equal(await replicaBranch(tc, dissenter, level.replica_path, 'main'), commit, 'replication brought the dissenter up to date');
  });

  t.test('a primary killed while it votes: the transaction aborts and no secondary has the update', async (t) => {
    const before = await newRepository(tc, 'tx/primary-dies.git');
    const primary = before.primary;
    const secondaries = before.replicas.map((r) => r.storage).filter((s) => s !== primary);
    const heads = await Promise.all(secondaries.map((s) => replicaBranch(tc, s, before.replica_path, 'main')));
    await restartStorage(tc, primary, { GITALY_FAILPOINTS: 'vote=kill' });
    const code = await statusOf(commitFile(router, 'tx/primary-dies.git', 'main', 'c.txt', 'c\n', 30_000));
    t.ok(RETRYABLE.includes(code as grpc.status), `the client got a retryable error (${String(code)})`);
    t.equal(tc.cluster.storage(primary).process.running, false, 'the primary died at its vote');
    for (const [i, storage] of secondaries.entries()) {
      t.equal(await replicaBranch(tc, storage, before.replica_path, 'main'), heads[i], `${storage} kept its old main: nothing was committed`);
    }
    await tc.cluster.storage(primary).process.start({});
    await waitLevel(tc, 'tx/primary-dies.git');
  });

  t.test('a secondary slowed past the vote timeout: the write succeeds on the primary and the other secondary', async (t) => {
    const before = await newRepository(tc, 'tx/slow.git');
    const slow = before.replicas.find((r) => r.storage !== before.primary)!.storage;
    const proxy = proxies.get(slow)!;
    // Routed while the slow node is still healthy by quorum: its probes need a few intervals to fail.
    proxy.setModes({ upstream: delayMode(VOTE_TIMEOUT_MS * 2), downstream: PASS });
    try {
      await commitFile(router, 'tx/slow.git', 'main', 'd.txt', 'd\n');
      const gens = generations(await metadata(tc, 'tx/slow.git'));
      t.equal(gens[slow], before.generation, `${slow} is left behind`);
      t.equal(gens[before.primary], before.generation + 1, 'the primary moved');
    } finally {
      proxy.setModes({ upstream: PASS, downstream: PASS });
    }
    await waitLevel(tc, 'tx/slow.git');
  });

  t.test('the primary and one secondary unreachable: the write fails retryably and no replica has it', async (t) => {
    const before = await newRepository(tc, 'tx/cut.git');
    const [cutSecondary, reachable] = before.replicas.map((r) => r.storage).filter((s) => s !== before.primary) as [string, string];
    const heads = Object.fromEntries(await Promise.all(before.replicas.map(async (r) => [r.storage, await replicaBranch(tc, r.storage, before.replica_path, 'main')] as const)));
    for (const storage of [before.primary, cutSecondary]) proxies.get(storage)!.setModes({ upstream: BLACKHOLE, downstream: BLACKHOLE });
    let code: grpc.status | 'ok';
    try {
      code = await statusOf(commitFile(router, 'tx/cut.git', 'main', 'e.txt', 'e\n', VOTE_TIMEOUT_MS * 3));
    } finally {
      for (const storage of [before.primary, cutSecondary]) proxies.get(storage)!.setModes({ upstream: PASS, downstream: PASS });
    }
    t.ok(RETRYABLE.includes(code as grpc.status), `the client got a retryable error (${String(code)})`);
    t.equal(await replicaBranch(tc, reachable, before.replica_path, 'main'), heads[reachable], `${reachable} voted alone and was aborted`);
    // Held bytes reach the cut nodes after the heal; their votes come too late to commit anything.
    const level = await waitLevel(tc, 'tx/cut.git');
    for (const r of level.replicas) t.equal(await replicaBranch(tc, r.storage, level.replica_path, 'main'), heads[r.storage], `${r.storage} never got the write`);
  });
});

t.test('with [transactions] enabled = false, a write goes to the primary alone and replication follows', async (t) => {
  const tc = await startCluster(t, { routers: 1, storages: 3, monitorIntervalMs: MONITOR_INTERVAL_MS, routerConfigToml: '[transactions]\nenabled = false\n' });
  const before = await newRepository(tc, 'async/repo.git');
  await commitFile(tc.rpcs[0]!, 'async/repo.git', 'main', 'a.txt', 'a\n');
  const after = await metadata(tc, 'async/repo.git');
  t.equal(after.replicas.filter((r) => r.generation === before.generation + 1).length, 1, `only the primary moved with the write: ${JSON.stringify(generations(after))}`);
  t.equal(await counter(tc, 'gitaly_praefect_transactions_total', 'action="registered"'), 0, 'no transaction was registered');
  const level = await waitLevel(tc, 'async/repo.git');
  t.equal(new Set(Object.values(await replicaChecksums(tc, level.replica_path))).size, 1, 'replication made the replicas equal');
});

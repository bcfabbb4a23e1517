// DESIGN §8, §9, §12 with real processes: replication brings secondaries up
// to date, a dead primary is replaced within a few probe intervals, a dead
// secondary catches up when it returns, and reads never see an outdated
// replica.
import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import type { RepositoryMetadataResponse } from '../../src/admin/index.js';
import { Rpc } from '../gitaly/fixtures/rpc.js';
import { branchCommit, commitFile, replicaChecksums, repo, startCluster, waitFor, type TestCluster } from './fixtures/cluster.js';

// 250 ms (the bench's setting) flaps under a loaded CI machine: a probe times out at the interval.
const MONITOR_INTERVAL_MS = 500;

function upToDate(meta: RepositoryMetadataResponse): boolean {
  return meta.replicas.length === 3 && meta.replicas.every((r) => r.generation === meta.generation);
}

async function metadata(tc: TestCluster, relativePath: string): Promise<RepositoryMetadataResponse> {
  return tc.admins[0]!.repositoryMetadata({ virtual_storage: 'default', relative_path: relativePath, fresh: true });
}

async function waitReplicated(tc: TestCluster, relativePath: string): Promise<RepositoryMetadataResponse> {
  return waitFor(`every replica of ${relativePath} on the latest generation`, async () => {
    const meta = await metadata(tc, relativePath);
    return upToDate(meta) ? meta : undefined;
  });
}

function checksums(tc: TestCluster, meta: RepositoryMetadataResponse): Promise<Record<string, string>> {
  return replicaChecksums(tc, meta.replica_path);
}

t.test('replication and failover', async (t) => {
  const tc = await startCluster(t, { monitorIntervalMs: MONITOR_INTERVAL_MS });
  const [a, b, c] = tc.rpcs as [Rpc, Rpc, Rpc];

  t.test('a new repository and its writes reach every replica, with equal checksums', async (t) => {
    await a.unary('/gitaly.RepositoryService/CreateRepository', { repository: repo('replicated.git') });
    await commitFile(b, 'replicated.git', 'main', 'a.txt', 'a\n');
    const meta = await waitReplicated(tc, 'replicated.git');
    t.equal(meta.generation, 1);
    const sums = Object.values(await checksums(tc, meta));
    t.equal(new Set(sums).size, 1, `one checksum on all three replicas: ${sums.join(' ')}`);
    t.not(sums[0], '0'.repeat(40));
  });

  t.test('reads right after writes never see an outdated replica', async (t) => {
    await a.unary('/gitaly.RepositoryService/CreateRepository', { repository: repo('fresh-reads.git') });
    const routers = [a, b, c];
    let stale = 0;
    for (let i = 0; i < 30; i++) {
      const commit = await commitFile(routers[i % 3]!, 'fresh-reads.git', 'main', `f${i}.txt`, `${i}\n`);
      // A router whose own probes briefly lost a node answers UNAVAILABLE: retried, never counted as a read.
      const read = await waitFor('an answered read', () => branchCommit(routers[(i + 1) % 3]!, 'fresh-reads.git', 'main').then((id) => id ?? 'no branch'));
      if (read !== commit) stale++;
    }
    t.equal(stale, 0, 'every read through another router saw the write acknowledged just before');
  });

  t.test('a secondary down: writes succeed and queue; back up, it catches up with the same checksum', async (t) => {
    await a.unary('/gitaly.RepositoryService/CreateRepository', { repository: repo('secondary.git') });
    await commitFile(a, 'secondary.git', 'main', 'one.txt', '1\n');
    const before = await waitReplicated(tc, 'secondary.git');
    const secondary = tc.cluster.storage(before.replicas.find((r) => r.storage !== before.primary)!.storage);
    await secondary.process.kill();
    const commit = await commitFile(b, 'secondary.git', 'main', 'two.txt', '2\n');
    t.equal(await branchCommit(c, 'secondary.git', 'main'), commit, 'reads go to the remaining up-to-date replicas');
    const during = await metadata(tc, 'secondary.git');
    t.ok((during.replicas.find((r) => r.storage === secondary.name)?.generation ?? -1) < during.generation, 'the dead secondary is outdated');
    await secondary.process.start();
    const after = await waitReplicated(tc, 'secondary.git');
    const sums = await checksums(tc, after);
    t.equal(new Set(Object.values(sums)).size, 1, `checksums match after catch-up: ${JSON.stringify(sums)}`);
  });

  t.test('the primary storage node SIGKILLed: writes resume on a new primary within a few probe intervals', async (t) => {
    await a.unary('/gitaly.RepositoryService/CreateRepository', { repository: repo('failover.git') });
    await commitFile(a, 'failover.git', 'main', 'one.txt', '1\n');
    const before = await waitReplicated(tc, 'failover.git');
    const primary = tc.cluster.storage(before.primary);
    const killedAt = Date.now();
    await primary.process.kill();
    const commit = await waitFor('a write accepted after the primary died', () => commitFile(b, 'failover.git', 'main', 'two.txt', '2\n'), 30_000, 20);
    const failoverMs = Date.now() - killedAt;
    t.comment(`failover: first acknowledged write ${failoverMs} ms after SIGKILL (monitor interval ${MONITOR_INTERVAL_MS} ms)`);
    const after = await metadata(tc, 'failover.git');
    t.not(after.primary, primary.name, `a new primary was elected: ${after.primary}`);
    t.equal(await branchCommit(c, 'failover.git', 'main'), commit);
    // Three failed probes flip a node; then one Raft round each for the view, the election and the write.
    t.ok(failoverMs < 3 * MONITOR_INTERVAL_MS + 5_000, `failover within 3 probe intervals plus Raft rounds (took ${failoverMs} ms)`);
    await primary.process.start();
    await waitReplicated(tc, 'failover.git');
    t.pass('the old primary caught up as a secondary');
  });

  t.test('elections from three routers at once yield exactly one primary', async (t) => {
    await a.unary('/gitaly.RepositoryService/CreateRepository', { repository: repo('race.git') });
    await commitFile(a, 'race.git', 'main', 'one.txt', '1\n');
    const before = await waitReplicated(tc, 'race.git');
    const primary = tc.cluster.storage(before.primary);
    await primary.process.kill();
    await waitFor('the dead primary unhealthy by quorum', async () => ((await tc.admins[0]!.clusterState(true)).storages.find((s) => s.storage === primary.name)?.healthy === false ? true : undefined));
    const outcomes = await Promise.all(
      [a, b, c].map((rpc, i) => commitFile(rpc, 'race.git', `branch-${i}`, 'x.txt', `${i}\n`).then(() => 'ok', (e: grpc.ServiceError) => grpc.status[e.code])),
    );
    t.same(outcomes, ['ok', 'ok', 'ok'], 'each router elected or found the new primary and wrote through it');
    const after = await metadata(tc, 'race.git');
    t.not(after.primary, primary.name);
    const views = await Promise.all(tc.admins.map((admin) => admin.repositoryMetadata({ virtual_storage: 'default', relative_path: 'race.git', fresh: true })));
    t.equal(new Set(views.map((v) => v.primary)).size, 1, `every router sees one primary: ${views.map((v) => v.primary).join(',')}`);
    t.equal(after.generation, before.generation + 3, 'three acknowledged writes, three bumps on one primary');
    await primary.process.start();
    await waitReplicated(tc, 'race.git');
  });

  t.test('all secondaries down, then the primary: writes on the primary alone, then a clear refusal, never an outdated replica', async (t) => {
    await a.unary('/gitaly.RepositoryService/CreateRepository', { repository: repo('majority-down.git') });
    await commitFile(a, 'majority-down.git', 'main', 'one.txt', '1\n');
    const meta = await waitReplicated(tc, 'majority-down.git');
    const primary = tc.cluster.storage(meta.primary);
    const secondaries = meta.replicas.filter((r) => r.storage !== meta.primary).map((r) => tc.cluster.storage(r.storage));
    await Promise.all(secondaries.map((s) => s.process.kill()));
    // Until health by quorum marks them down, a write fans out to them and cannot reach its vote's quorum (ABORTED, retryable).
    await waitFor('the secondaries unhealthy by quorum', async () => {
      const state = await tc.admins[1]!.clusterState(true);
      return secondaries.every((s) => state.storages.find((x) => x.storage === s.name)?.healthy === false) ? true : undefined;
    });
    const commit = await commitFile(b, 'majority-down.git', 'main', 'two.txt', '2\n');
    t.ok(commit, 'with every secondary down, writes succeed on the primary alone');
    await primary.process.kill();
    await Promise.all(secondaries.map((s) => s.process.start()));
    await waitFor('the secondaries healthy again and the primary unhealthy', async () => {
      const state = await tc.admins[2]!.clusterState(true);
      const healthy = (name: string) => state.storages.find((s) => s.storage === name)?.healthy;
      return secondaries.every((s) => healthy(s.name) === true) && healthy(primary.name) === false ? true : undefined;
    });
    const refused = await commitFile(c, 'majority-down.git', 'main', 'three.txt', '3\n').then(() => undefined, (e: grpc.ServiceError) => e);
    t.equal(refused?.code, grpc.status.UNAVAILABLE, `the only up-to-date replica is down: ${refused?.details}`);
    t.match(refused?.details, /latest generation/, 'the error says why');
    const read = await branchCommit(c, 'majority-down.git', 'main').then(() => undefined, (e: grpc.ServiceError) => e);
    t.equal(read?.code, grpc.status.UNAVAILABLE, 'reads are not served from outdated replicas either');
    await primary.process.start();
    const after = await waitReplicated(tc, 'majority-down.git');
    t.equal(after.primary, primary.name, 'the primary that holds the latest write stays primary');
    t.equal(await branchCommit(a, 'majority-down.git', 'main'), commit, 'no acknowledged write was lost');
  });
});

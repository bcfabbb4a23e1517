// DESIGN §7 and §12 with real processes: 3 routers, 3 storage nodes, an
// embedded PostgreSQL. Writes through one router are read through another;
// a router's death, a PostgreSQL outage and an unhealthy secondary are
// survived as the failure-semantics table says.
import * as grpc from '@grpc/grpc-js';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { STALE_READ_METADATA_KEY } from '../../src/coordinator/index.js';
import type { RouterMember } from '../../src/local-cluster/index.js';
import { gitalyProtocol } from '../../src/protocol/index.js';
import { git, makeGitHome } from '../gateway/git-cli.js';
import { branchCommit, commitFile, repo, startCluster, waitFor } from './fixtures/cluster.js';

const statusOf = (promise: Promise<unknown>): Promise<number> => promise.then(() => grpc.status.OK, (error: grpc.ServiceError) => error.code);

t.test('routing through a cluster of real processes', async (t) => {
  const { cluster, admins, rpcs } = await startCluster(t);
  const [a, b, c] = rpcs as [NonNullable<(typeof rpcs)[0]>, NonNullable<(typeof rpcs)[0]>, NonNullable<(typeof rpcs)[0]>];

  t.test('create through A, write through B, read through C', async (t) => {
    await a.unary('/gitaly.RepositoryService/CreateRepository', { repository: repo('abc.git') });
    const commit = await commitFile(b, 'abc.git', 'main', 'README.md', 'hello\n');
    t.equal(await branchCommit(c, 'abc.git', 'main'), commit, 'C reads the commit B acknowledged');
    const meta = await admins[2]!.repositoryMetadata({ virtual_storage: 'default', relative_path: 'abc.git', fresh: true });
    t.equal(meta.replicas.find((r) => r.storage === meta.primary)?.generation, 1, 'the write bumped the primary to generation 1');
    t.match(meta.replica_path, /^@cluster\/repositories\/[0-9a-f]{2}\/[0-9a-f]{2}\/\d+$/);
    t.equal(meta.write_intents, 0, 'no write intent is left behind');
    t.equal(await statusOf(c.unary('/gitaly.RepositoryService/CreateRepository', { repository: repo('abc.git') })), grpc.status.ALREADY_EXISTS);
  });

  t.test('plain git pushes and clones through the gateway and the routers', async (t) => {
    await a.unary('/gitaly.RepositoryService/CreateRepository', { repository: repo('group/pushed.git') });
    const home = makeGitHome();
    const work = await mkdtemp(path.join(tmpdir(), 'praefect-push-'));
    await git(home, work, ['init', '-q', '-b', 'main', 'src']);
    const src = path.join(work, 'src');
    await writeFile(path.join(src, 'README.md'), 'pushed through the cluster\n');
    await git(home, src, ['add', '.']);
    await git(home, src, ['commit', '-q', '-m', 'first']);
    const head = (await git(home, src, ['rev-parse', 'HEAD'])).trim();
    await git(home, src, ['push', '-q', `${cluster.gitUrl}/group/pushed.git`, 'main']);
    t.equal(await branchCommit(c, 'group/pushed.git', 'main'), head, 'the pushed commit is readable through another router');
    await git(home, work, ['clone', '-q', `${cluster.gitUrl}/group/pushed.git`, 'clone']);
    t.equal((await git(home, path.join(work, 'clone'), ['rev-parse', 'HEAD'])).trim(), head, 'a clone gets it back');
    const meta = await admins[1]!.repositoryMetadata({ virtual_storage: 'default', relative_path: 'group/pushed.git', fresh: true });
    t.equal(meta.generation, 1, 'the push was one write: one generation bump');
  });

  t.test('metrics carry upstream names and labels; logs have one line per RPC and no secret', async (t) => {
    await b.unary('/gitaly.RepositoryService/CreateRepository', { repository: repo('observed.git') });
    await commitFile(b, 'observed.git', 'main', 'm.txt', 'm\n');
    await branchCommit(b, 'observed.git', 'main');
    const router = cluster.routers[1]!;
    const text = await (await fetch(`http://${router.metricsAddress}/metrics`)).text();
    t.match(text, /grpc_server_handled_total\{grpc_service="gitaly.OperationService",grpc_method="UserCommitFiles",grpc_code="OK"\} [1-9]/);
    t.match(text, /grpc_server_handling_seconds_bucket\{le="[^"]+",grpc_service="gitaly.RefService",grpc_method="FindBranch"\}/);
    t.match(text, /gitaly_praefect_read_distribution\{virtual_storage="default",storage="gitaly-\d"\} [1-9]/);
    t.match(text, /gitaly_praefect_node_health\{virtual_storage="default",storage="gitaly-1"\} 1/);
    t.match(text, /gitaly_praefect_node_latency_bucket\{le="[^"]+",gitaly_storage="gitaly-1"\}/);
    t.match(text, /gitaly_praefect_unavailable_repositories\{virtual_storage="default"\} 0/);
    t.match(text, /gitaly_praefect_read_only_repositories\{virtual_storage="default"\} 0/);
    t.match(text, /gitaly_authentications_total\{enforced="true",status="ok"\} [1-9]/);
    t.match(text, /raft_term|praefect_raft/, 'Raft metrics are served too');
    const log = await readFile(router.process.spec.logFile, 'utf8');
    t.match(log, /"grpc.method":"UserCommitFiles","grpc.code":"OK","grpc.time_ms":[\d.]+,"grpc.request.repository":"default\/observed.git"/);
    t.match(log, /finished streaming call with code OK/);
    t.notOk(log.includes(cluster.layout.token), 'the token never appears in the logs');
  });

  t.test('bad requests get precise errors', async (t) => {
    const unknownVs = await c.unary('/gitaly.RefService/FindBranch', { repository: { storage_name: 'nope', relative_path: 'x.git' }, name: Buffer.from('main') }).catch((e: grpc.ServiceError) => e);
    t.equal((unknownVs as grpc.ServiceError).code, grpc.status.INVALID_ARGUMENT);
    t.match((unknownVs as grpc.ServiceError).details, /storage_name/);
    t.equal(await statusOf(c.unary('/gitaly.RefService/FindBranch', { repository: repo('missing.git'), name: Buffer.from('main') })), grpc.status.NOT_FOUND);
    const traversal = await c.unary('/gitaly.RefService/FindBranch', { repository: repo('../etc/passwd'), name: Buffer.from('main') }).catch((e: grpc.ServiceError) => e);
    t.equal((traversal as grpc.ServiceError).code, grpc.status.INVALID_ARGUMENT);
  });

  t.test('server-scoped calls fan out to every node', async (t) => {
    const info = await a.unary<{ storage_statuses: Array<{ storage_name: string }> }>('/gitaly.ServerService/ServerInfo', {});
    t.equal(info.storage_statuses.length, 3, 'one status per storage');
    t.ok(info.storage_statuses.every((s) => s.storage_name === 'default'), 'reported under the virtual storage');
  });

  t.test('PostgreSQL down: existing repositories keep working, creation is UNAVAILABLE', async (t) => {
    await a.unary('/gitaly.RepositoryService/CreateRepository', { repository: repo('pg.git') });
    await cluster.database.stop();
    try {
      const commit = await commitFile(b, 'pg.git', 'main', 'a.txt', 'during outage\n');
      t.equal(await branchCommit(c, 'pg.git', 'main'), commit, 'writes and reads continue');
      const refused = await a.unary('/gitaly.RepositoryService/CreateRepository', { repository: repo('new-during-outage.git') }).catch((e: grpc.ServiceError) => e);
      t.equal((refused as grpc.ServiceError).code, grpc.status.UNAVAILABLE, 'creation needs the catalogue');
      t.match((refused as grpc.ServiceError).details, /database/);
    } finally {
      await cluster.database.start();
    }
    await waitFor('creation to work again', async () => {
      await a.unary('/gitaly.RepositoryService/CreateRepository', { repository: repo('after-outage.git') });
      return true;
    });
    t.pass('the pool reconnected by itself');
    await waitFor('the reconciler to schedule the jobs the outage lost, and the worker to run them', async () => {
      const meta = await admins[0]!.repositoryMetadata({ virtual_storage: 'default', relative_path: 'pg.git', fresh: true });
      return meta.replicas.length === 3 && meta.replicas.every((r) => r.generation === meta.generation) ? meta : undefined;
    }, 60_000, 200);
    t.pass('every replica caught up with the write made during the outage');
  });

  t.test('one router killed: the others serve reads and writes', async (t) => {
    await a.unary('/gitaly.RepositoryService/CreateRepository', { repository: repo('router-down.git') });
    await cluster.routers[0]!.process.kill();
    const commit = await waitFor('a write through B with router A dead', () => commitFile(b, 'router-down.git', 'main', 'x.txt', 'x\n'));
    t.equal(await branchCommit(c, 'router-down.git', 'main'), commit);
    await cluster.routers[0]!.process.start();
    await waitFor('router A to serve again', () => branchCommit(a, 'router-down.git', 'main'));
    t.equal(await branchCommit(a, 'router-down.git', 'main'), commit, 'the restarted router caught up from Raft');
  });

  t.test('a majority of routers down (SIGSTOP): writes fail closed, reads continue and say they may be stale', async (t) => {
    await c.unary('/gitaly.RepositoryService/CreateRepository', { repository: repo('majority.git') });
    const commit = await commitFile(c, 'majority.git', 'main', 'x.txt', 'x\n');
    await waitFor('a fresh read through C', () => branchCommit(c, 'majority.git', 'main'));
    const [routerA, routerB] = cluster.routers as [RouterMember, RouterMember];
    routerA.process.pause();
    routerB.process.pause();
    try {
      const write = await commitFile(c, 'majority.git', 'main', 'y.txt', 'y\n').then(() => undefined, (e: grpc.ServiceError) => e);
      t.equal(write?.code, grpc.status.UNAVAILABLE, `a write is refused: ${write?.details}`);
      const headers = new Promise<grpc.Metadata>((resolve, reject) => {
        const client = c.client('gitaly.RefService');
        const call = client.makeUnaryRequest(
          '/gitaly.RefService/FindBranch',
          (r: Buffer) => r,
          (b: Buffer) => b,
          Buffer.from(gitalyProtocol().root.lookupType('gitaly.FindBranchRequest').encode({ repository: repo('majority.git'), name: Buffer.from('main') }).finish()),
          (error) => (error ? reject(error) : undefined),
        );
        call.on('metadata', resolve);
      });
      t.equal((await headers).get(STALE_READ_METADATA_KEY)[0], 'stale', 'the answer is marked stale');
      t.equal(await branchCommit(c, 'majority.git', 'main'), commit, 'the read is served, from the state the router had');
    } finally {
      routerA.process.resume();
      routerB.process.resume();
    }
    await waitFor('writes through C again', () => commitFile(c, 'majority.git', 'main', 'z.txt', 'z\n'));
  });
});

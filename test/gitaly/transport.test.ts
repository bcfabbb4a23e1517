// git clone and push with the real git CLI: smart HTTP through the gateway,
// SSHService through a git:// bridge, and replication between two nodes.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { git, seedWorkRepo, tempDir } from './fixtures/git.js';
import { startGateway } from './fixtures/gateway.js';
import { startInProcessNode } from './fixtures/node.js';
import { Rpc } from './fixtures/rpc.js';
import { sshBridgeUrl } from './fixtures/ssh-bridge.js';
import { withGitalyServers } from '../../src/gitaly/gitaly-servers.js';
import * as grpc from '@grpc/grpc-js';

const TOKEN = 'transport-test-secret';
const nodeA = await startInProcessNode({ token: TOKEN, storages: ['default'] });
const nodeB = await startInProcessNode({ token: TOKEN, storages: ['default'] });
const rpcA = new Rpc(nodeA.address, TOKEN);
const rpcB = new Rpc(nodeB.address, TOKEN);
const gateway = await startGateway(nodeA.address, TOKEN);
t.teardown(async () => {
  await gateway.close();
  rpcA.close();
  rpcB.close();
  await Promise.all([nodeA.close(), nodeB.close()]);
});

const refsOf = (dir: string): Promise<string> => git(dir, 'for-each-ref', '--format=%(objectname) %(refname)', 'refs/heads/', 'refs/tags/');

t.test('push through the gateway, clone back, compare', async (t) => {
  const work = await seedWorkRepo();
  const repository = { storage_name: 'default', relative_path: 'e2e/http.git' };
  await rpcA.unary('/gitaly.RepositoryService/CreateRepository', { repository });
  await git(work.dir, 'push', '-q', `${gateway.url}/e2e/http.git`, 'refs/heads/*:refs/heads/*', 'refs/tags/*:refs/tags/*');
  for (const protocol of ['0', '2']) {
    const clone = path.join(await tempDir(), 'clone');
    await git(path.dirname(clone), '-c', `protocol.version=${protocol}`, 'clone', '-q', '--mirror', `${gateway.url}/e2e/http.git`, clone);
    t.equal(await refsOf(clone), await refsOf(work.dir), `protocol v${protocol}: same refs`);
    t.equal(await git(clone, 'rev-parse', 'main:README.md'), await git(work.dir, 'rev-parse', 'main:README.md'));
    await git(clone, 'fsck', '--no-progress');
  }
});

t.test('two concurrent pushes to one repository both end consistently', async (t) => {
  const repository = { storage_name: 'default', relative_path: 'e2e/concurrent.git' };
  await rpcA.unary('/gitaly.RepositoryService/CreateRepository', { repository });
  const base = await seedWorkRepo();
  await git(base.dir, 'push', '-q', `${gateway.url}/e2e/concurrent.git`, 'main');
  const clones = await Promise.all([1, 2].map(async (i) => {
    const dir = path.join(await tempDir(), `c${i}`);
    await git(path.dirname(dir), 'clone', '-q', `${gateway.url}/e2e/concurrent.git`, dir);
    await git(dir, 'commit', '-q', '--allow-empty', '-m', `from clone ${i}`);
    await git(dir, 'checkout', '-q', '-b', `only-${i}`);
    await git(dir, 'commit', '-q', '--allow-empty', '-m', `branch of clone ${i}`);
    return dir;
  }));
  const results = await Promise.allSettled(clones.map((dir) => git(dir, 'push', '-q', 'origin', 'HEAD:main', `only-${clones.indexOf(dir) + 1}`)));
  const succeeded = results.filter((r) => r.status === 'fulfilled').length;
  t.ok(succeeded >= 1, 'at least one push to main won');
  const server = path.join(nodeA.storages['default'] as string, 'e2e/concurrent.git');
  await git(server, 'fsck', '--no-progress');
  const main = await git(server, 'rev-parse', 'main');
  const winners = await Promise.all(clones.map((dir) => git(dir, 'rev-parse', 'HEAD')));
  t.ok(winners.includes(main), 'main is exactly one of the pushed commits');
  t.equal(await git(server, 'log', '--format=%s', '-1', 'main'), `branch of clone ${winners.indexOf(main) + 1}`);
  for (const [i, result] of results.entries()) {
    const exists = (await git(server, 'for-each-ref', `refs/heads/only-${i + 1}`)).length > 0;
    // A push is atomic per reference, not per push: a loser may still have created its own branch.
    if (result.status === 'fulfilled') t.ok(exists, `push ${i + 1} succeeded and its branch exists`);
  }
});

t.test('SSHReceivePack and SSHUploadPack carry git push and fetch', async (t) => {
  const work = await seedWorkRepo();
  const repository = { storage_name: 'default', relative_path: 'e2e/ssh.git' };
  await rpcA.unary('/gitaly.RepositoryService/CreateRepository', { repository });
  const push = await sshBridgeUrl(rpcA, repository);
  await git(work.dir, 'push', '-q', push.url, 'refs/heads/*:refs/heads/*', 'refs/tags/*:refs/tags/*');
  t.equal(await push.done, 0, 'receive-pack exit status 0');
  const clone = path.join(await tempDir(), 'ssh-clone');
  const fetch = await sshBridgeUrl(rpcA, repository);
  await git(path.dirname(clone), 'clone', '-q', '--mirror', fetch.url, clone);
  t.equal(await fetch.done, 0, 'upload-pack exit status 0');
  t.equal(await refsOf(clone), await refsOf(work.dir));
});

t.test('ReplicateRepository between two nodes: checksums match', async (t) => {
  const work = await seedWorkRepo();
  const source = { storage_name: 'default', relative_path: 'e2e/replica.git' };
  await rpcA.unary('/gitaly.RepositoryService/CreateRepository', { repository: source });
  await git(work.dir, 'push', '-q', `${gateway.url}/e2e/replica.git`, 'refs/heads/*:refs/heads/*', 'refs/tags/*:refs/tags/*');
  await rpcA.unary('/gitaly.RepositoryService/WriteRef', { repository: source, ref: Buffer.from('HEAD'), revision: Buffer.from('refs/heads/feature') });
  const target = { storage_name: 'default', relative_path: 'copies/replica.git' };
  const servers = () => withGitalyServers(new grpc.Metadata(), { default: { address: `tcp://${nodeA.address}`, token: TOKEN } });
  await rpcB.unary('/gitaly.RepositoryService/ReplicateRepository', { repository: target, source }, servers());
  const checksum = (rpc: Rpc, repository: unknown) => rpc.unary<{ checksum: string }>('/gitaly.RepositoryService/CalculateChecksum', { repository });
  t.same(await checksum(rpcB, target), await checksum(rpcA, source), 'created replica matches');
  const targetDir = path.join(nodeB.storages['default'] as string, target.relative_path);
  t.equal(await git(targetDir, 'symbolic-ref', 'HEAD'), 'refs/heads/feature');

  // Changes on the source, including a deleted branch, follow on the next replication.
  await rpcA.unary('/gitaly.RefService/DeleteRefs', { repository: source, refs: [Buffer.from('refs/tags/light')] });
  await git(work.dir, 'commit', '-q', '--allow-empty', '-m', 'more');
  await git(work.dir, 'push', '-q', `${gateway.url}/e2e/replica.git`, 'main');
  t.not((await checksum(rpcB, target)).checksum, (await checksum(rpcA, source)).checksum);
  await rpcB.unary('/gitaly.RepositoryService/ReplicateRepository', { repository: target, source }, servers());
  t.same(await checksum(rpcB, target), await checksum(rpcA, source), 'updated replica matches');
  await git(targetDir, 'fsck', '--no-progress');
  t.ok((await readFile(path.join(targetDir, 'HEAD'), 'utf8')).includes('refs/heads/feature'));
});

t.test('ReplicateRepository: an empty source, a missing source, an unknown source storage', async (t) => {
  const servers = () => withGitalyServers(new grpc.Metadata(), { default: { address: `tcp://${nodeA.address}`, token: TOKEN } });
  const empty = { storage_name: 'default', relative_path: 'e2e/empty.git' };
  await rpcA.unary('/gitaly.RepositoryService/CreateRepository', { repository: empty, default_branch: Buffer.from('trunk') });
  const target = { storage_name: 'default', relative_path: 'copies/empty.git' };
  await rpcB.unary('/gitaly.RepositoryService/ReplicateRepository', { repository: target, source: empty }, servers());
  t.same(await rpcB.unary('/gitaly.RepositoryService/RepositoryExists', { repository: target }), { exists: true });
  t.equal(await git(path.join(nodeB.storages['default'] as string, target.relative_path), 'symbolic-ref', 'HEAD'), 'refs/heads/trunk');
  const missing = { storage_name: 'default', relative_path: 'e2e/never-created.git' };
  const failure = rpcB.unary('/gitaly.RepositoryService/ReplicateRepository', { repository: { ...target, relative_path: 'copies/x.git' }, source: missing }, servers());
  await t.rejects(failure, { code: grpc.status.NOT_FOUND });
  const unknown = rpcB.unary('/gitaly.RepositoryService/ReplicateRepository', { repository: target, source: { storage_name: 'elsewhere', relative_path: 'a.git' } });
  await t.rejects(unknown, { code: grpc.status.INVALID_ARGUMENT });
});

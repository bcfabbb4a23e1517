// InternalGitaly/WalkRepos: every bare repository on a storage's disk, by
// relative path, and nothing else: not the node's own folder, not plain
// folders or files, not what is inside a repository, not symbolic links.
import { mkdir, symlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import { walkRepositories } from '../../src/gitaly/repository-walk.js';
import { git } from './fixtures/git.js';
import { startInProcessNode } from './fixtures/node.js';
import { Rpc, statusOf } from './fixtures/rpc.js';

const node = await startInProcessNode({ storages: ['default', 'other'] });
const rpc = new Rpc(node.address);
t.teardown(async () => {
  rpc.close();
  await node.close();
});
const storagePath = node.storages['default'] as string;

interface Walked {
  relative_path: string;
  modification_time: { seconds: number; nanos: number } | null;
}

const REPOSITORIES = ['top.git', 'group/project.git', 'group/sub/deep.git', '@cluster/repositories/ab/cd/7'];

t.before(async () => {
  for (const relativePath of REPOSITORIES) {
    await rpc.unary('/gitaly.RepositoryService/CreateRepository', { repository: { storage_name: 'default', relative_path: relativePath } });
  }
  await mkdir(path.join(storagePath, 'plain/folder'), { recursive: true });
  await writeFile(path.join(storagePath, 'plain/file.txt'), 'not a repository');
  // The node's temporary folders, a repository inside a repository and a link to a repository are not repositories of the storage.
  await git(storagePath, 'init', '-q', '--bare', path.join(storagePath, '+gitaly/tmp/half-created.git'));
  await git(storagePath, 'init', '-q', '--bare', path.join(storagePath, 'top.git/inner.git'));
  await symlink(path.join(storagePath, 'top.git'), path.join(storagePath, 'link.git'));
  // An old repository: its time must come through as the folder's.
  await utimes(path.join(storagePath, 'group/project.git'), new Date('2020-01-02T03:04:05.678Z'), new Date('2020-01-02T03:04:05.678Z'));
});

t.test('lists every repository once, with its folder\'s modification time', async (t) => {
  const walked = await rpc.serverStream<Walked>('/gitaly.InternalGitaly/WalkRepos', { storage_name: 'default' });
  t.same(walked.map((w) => w.relative_path).sort(), [...REPOSITORIES].sort());
  const old = walked.find((w) => w.relative_path === 'group/project.git')!;
  t.equal(old.modification_time!.seconds, Date.parse('2020-01-02T03:04:05Z') / 1000);
  // utimes itself rounds through a double: the time set is within a millisecond of .678.
  t.ok(Math.abs(old.modification_time!.nanos - 678_000_000) < 1_000_000, `nanos ${old.modification_time!.nanos}`);
  const recent = walked.find((w) => w.relative_path === 'top.git')!;
  t.ok(Math.abs(recent.modification_time!.seconds - Date.now() / 1000) < 600, 'a new repository is recent');
});

t.test('an empty storage lists nothing; an unknown one is INVALID_ARGUMENT', async (t) => {
  t.same(await rpc.serverStream('/gitaly.InternalGitaly/WalkRepos', { storage_name: 'other' }), []);
  t.equal(await statusOf(rpc.serverStream('/gitaly.InternalGitaly/WalkRepos', { storage_name: 'nope' })), grpc.status.INVALID_ARGUMENT);
  t.equal(await statusOf(rpc.serverStream('/gitaly.InternalGitaly/WalkRepos', { storage_name: '' })), grpc.status.INVALID_ARGUMENT);
});

t.test('the walk yields as it goes and stops when its consumer does', async (t) => {
  const walk = walkRepositories(storagePath);
  const first = await walk.next();
  t.equal(first.done, false);
  t.ok(REPOSITORIES.includes(first.value!.relativePath));
  // Returning early closes every open directory handle; a second return is a no-op.
  t.same(await walk.return(undefined), { done: true, value: undefined });
  const aborted = new AbortController();
  aborted.abort(new Error('stop'));
  await t.rejects(walkRepositories(storagePath, aborted.signal).next(), /stop/);
});

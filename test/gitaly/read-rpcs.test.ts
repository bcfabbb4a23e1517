// Repository, ref, commit and blob reads against a real repository.
import path from 'node:path';
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { git, seedWorkRepo } from './fixtures/git.js';
import { startInProcessNode } from './fixtures/node.js';
import { Rpc, statusOf } from './fixtures/rpc.js';

const node = await startInProcessNode();
const rpc = new Rpc(node.address);
t.teardown(async () => {
  rpc.close();
  await node.close();
});
const work = await seedWorkRepo();
const storagePath = node.storages['default'] as string;
await git(storagePath, 'clone', '-q', '--bare', work.dir, path.join(storagePath, 'group/project.git'));
const repository = { storage_name: 'default', relative_path: 'group/project.git' };

t.test('RepositoryExists and RepositorySize', async (t) => {
  t.same(await rpc.unary('/gitaly.RepositoryService/RepositoryExists', { repository }), { exists: true });
  t.same(await rpc.unary('/gitaly.RepositoryService/RepositoryExists', { repository: { ...repository, relative_path: 'nope.git' } }), { exists: false });
  const size = await rpc.unary<{ size: number }>('/gitaly.RepositoryService/RepositorySize', { repository });
  t.ok(size.size > 0);
});

t.test('default branch, branch names, local branches', async (t) => {
  const head = await rpc.unary<{ name: Buffer }>('/gitaly.RefService/FindDefaultBranchName', { repository });
  t.equal(head.name.toString(), 'refs/heads/main');
  const names = await rpc.serverStream<{ names: Buffer[] }>('/gitaly.RefService/FindAllBranchNames', { repository });
  t.same(names.flatMap((m) => m.names.map(String)), ['refs/heads/feature', 'refs/heads/main']);
  const local = await rpc.serverStream<{ local_branches: Array<{ name: Buffer; target_commit: { id: string } }> }>(
    '/gitaly.RefService/FindLocalBranches',
    { repository },
  );
  const branches = local.flatMap((m) => m.local_branches);
  t.same(branches.map((b) => [String(b.name), b.target_commit.id]), [
    ['refs/heads/feature', work.feature],
    ['refs/heads/main', work.main],
  ]);
  const page = await rpc.serverStream<{ local_branches: unknown[] }>('/gitaly.RefService/FindLocalBranches', {
    repository,
    pagination_params: { page_token: 'refs/heads/feature', limit: 10 },
  });
  t.equal(page.flatMap((m) => m.local_branches).length, 1);
});

t.test('FindBranch and RefExists', async (t) => {
  const found = await rpc.unary<{ branch: { name: Buffer; target_commit: { id: string; subject: Buffer } } }>('/gitaly.RefService/FindBranch', {
    repository,
    name: Buffer.from('feature'),
  });
  t.equal(found.branch.name.toString(), 'feature');
  t.equal(found.branch.target_commit.id, work.feature);
  t.equal(found.branch.target_commit.subject.toString(), 'feature commit');
  t.same(await rpc.unary('/gitaly.RefService/FindBranch', { repository, name: Buffer.from('missing') }), { branch: null });
  t.same(await rpc.unary('/gitaly.RefService/RefExists', { repository, ref: Buffer.from('refs/heads/main') }), { value: true });
  t.same(await rpc.unary('/gitaly.RefService/RefExists', { repository, ref: Buffer.from('refs/heads/nope') }), { value: false });
  t.equal(await statusOf(rpc.unary('/gitaly.RefService/RefExists', { repository, ref: Buffer.from('main') })), grpc.status.INVALID_ARGUMENT);
});

t.test('FindAllTags and ListRefs', async (t) => {
  const tags = (await rpc.serverStream<{ tags: Array<{ name: Buffer; id: string; message: Buffer; target_commit: { id: string } }> }>(
    '/gitaly.RefService/FindAllTags',
    { repository },
  )).flatMap((m) => m.tags);
  t.same(tags.map((tag) => String(tag.name)), ['light', 'v1.0']);
  t.equal(tags[1]?.message.toString(), 'release 1.0\n');
  t.equal(tags[1]?.target_commit.id, work.main);
  t.equal(tags[0]?.id, work.main);
  const refs = (await rpc.serverStream<{ references: Array<{ name: Buffer; target: string; peeled_target: string }> }>('/gitaly.RefService/ListRefs', {
    repository,
    patterns: [Buffer.from('refs/')],
    head: true,
    peel_tags: true,
  })).flatMap((m) => m.references);
  t.equal(refs[0]?.name.toString(), 'HEAD');
  t.equal(refs.length, 5);
  t.equal(refs.find((r) => String(r.name) === 'refs/tags/v1.0')?.peeled_target, work.main);
});

t.test('FindCommit, CountCommits, ListCommits, FindMergeBase', async (t) => {
  const { commit } = await rpc.unary<{ commit: { id: string; parent_ids: string[]; body: Buffer; author: { name: Buffer; email: Buffer; date: { seconds: number } }; trailers: Array<{ key: Buffer; value: Buffer }> } }>(
    '/gitaly.CommitService/FindCommit',
    { repository, revision: Buffer.from('main'), trailers: true },
  );
  t.equal(commit.id, work.main);
  t.equal(commit.parent_ids.length, 1);
  t.equal(commit.author.name.toString(), 'Test Author');
  t.ok(commit.author.date.seconds > 1_600_000_000);
  t.match(commit.body.toString(), /With a body/);
  t.same(commit.trailers.map((tr) => [String(tr.key), String(tr.value)]), [['Signed-off-by', 'Someone <s@example.com>']]);
  t.same(await rpc.unary('/gitaly.CommitService/FindCommit', { repository, revision: Buffer.from('nope') }), { commit: null });
  t.equal(await statusOf(rpc.unary('/gitaly.CommitService/FindCommit', { repository, revision: Buffer.from('--all') })), grpc.status.INVALID_ARGUMENT);
  t.same(await rpc.unary('/gitaly.CommitService/CountCommits', { repository, revision: Buffer.from('feature') }), { count: 3 });
  t.same(await rpc.unary('/gitaly.CommitService/CountCommits', { repository, all: true }), { count: 3 });
  const listed = (await rpc.serverStream<{ commits: Array<{ id: string }> }>('/gitaly.CommitService/ListCommits', {
    repository,
    revisions: ['feature', '--not', 'main'],
  })).flatMap((m) => m.commits);
  t.same(listed.map((c) => c.id), [work.feature]);
  const base = await rpc.unary<{ base: string }>('/gitaly.RepositoryService/FindMergeBase', {
    repository,
    revisions: [Buffer.from('main'), Buffer.from('feature')],
  });
  t.equal(base.base, work.main);
});

t.test('GetBlob streams content and honours limit', async (t) => {
  const oid = await git(work.dir, 'rev-parse', 'main:README.md');
  const full = await rpc.serverStream<{ size: number; data: Buffer; oid: string }>('/gitaly.BlobService/GetBlob', { repository, oid, limit: -1 });
  t.equal(Buffer.concat(full.map((m) => m.data)).toString(), '# readme\n');
  t.equal(full[0]?.size, 9);
  t.equal(full[0]?.oid, oid);
  const limited = await rpc.serverStream<{ data: Buffer }>('/gitaly.BlobService/GetBlob', { repository, oid, limit: 3 });
  t.equal(Buffer.concat(limited.map((m) => m.data)).toString(), '# r');
  const missing = await rpc.serverStream<{ oid: string }>('/gitaly.BlobService/GetBlob', { repository, oid: '1'.repeat(40), limit: -1 });
  t.same(missing.map((m) => m.oid), ['']);
});

// Repository creation, server-side commits and reference changes, checked
// against git's own view of the repository.
import path from 'node:path';
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { git } from './fixtures/git.js';
import { startInProcessNode } from './fixtures/node.js';
import { Rpc, statusOf } from './fixtures/rpc.js';

const node = await startInProcessNode();
const rpc = new Rpc(node.address);
t.teardown(async () => {
  rpc.close();
  await node.close();
});
const storagePath = node.storages['default'] as string;
const user = { gl_id: 'user-1', name: Buffer.from('Jane Doe'), email: Buffer.from('jane@example.com'), gl_username: 'jane', timezone: 'UTC' };
let counter = 0;
const newRepo = async (defaultBranch?: string): Promise<{ repository: { storage_name: string; relative_path: string }; dir: string }> => {
  const relative = `repos/r${++counter}.git`;
  const repository = { storage_name: 'default', relative_path: relative };
  await rpc.unary('/gitaly.RepositoryService/CreateRepository', { repository, default_branch: Buffer.from(defaultBranch ?? '') });
  return { repository, dir: path.join(storagePath, relative) };
};

function commitFiles(repository: unknown, branch: string, message: string, actions: Array<{ header: Record<string, unknown>; content?: string }>, extra: Record<string, unknown> = {}) {
  const requests: unknown[] = [
    { header: { repository, user, branch_name: Buffer.from(branch), commit_message: Buffer.from(message), ...extra } },
  ];
  for (const action of actions) {
    requests.push({ action: { header: { ...action.header, file_path: Buffer.from(String(action.header['file_path'])) } } });
    if (action.content !== undefined) requests.push({ action: { content: Buffer.from(action.content) } });
  }
  return rpc.clientStream<{ branch_update: { commit_id: string; repo_created: boolean; branch_created: boolean } }>(
    '/gitaly.OperationService/UserCommitFiles',
    requests,
  );
}

t.test('CreateRepository honours the default branch and refuses duplicates', async (t) => {
  const { repository, dir } = await newRepo('trunk');
  t.equal(await git(dir, 'symbolic-ref', 'HEAD'), 'refs/heads/trunk');
  t.equal(await statusOf(rpc.unary('/gitaly.RepositoryService/CreateRepository', { repository })), grpc.status.ALREADY_EXISTS);
  const plain = await newRepo();
  t.equal(await git(plain.dir, 'symbolic-ref', 'HEAD'), 'refs/heads/main');
  t.same(await rpc.unary('/gitaly.RepositoryService/CalculateChecksum', { repository }), { checksum: '0'.repeat(40) });
});

t.test('UserCommitFiles builds commits from actions', async (t) => {
  const { repository, dir } = await newRepo();
  const first = await commitFiles(repository, 'main', 'initial', [
    { header: { action: 'CREATE', file_path: 'README.md' }, content: 'hello\n' },
    { header: { action: 'CREATE', file_path: 'bin/run', execute_filemode: true }, content: '#!/bin/sh\n' },
    { header: { action: 'CREATE', file_path: 'b64.txt', base64_content: true }, content: Buffer.from('decoded!').toString('base64') },
    { header: { action: 'CREATE_DIR', file_path: 'empty' } },
  ]);
  t.match(first.branch_update, { repo_created: true, branch_created: true });
  t.equal(await git(dir, 'rev-parse', 'refs/heads/main'), first.branch_update.commit_id);
  t.equal(await git(dir, 'show', 'main:README.md'), 'hello');
  t.equal(await git(dir, 'show', 'main:b64.txt'), 'decoded!');
  t.match(await git(dir, 'ls-tree', 'main', 'bin/run'), /^100755 /);
  t.equal(await git(dir, 'ls-tree', '--name-only', 'main', 'empty/'), 'empty/.gitkeep');
  t.equal(await git(dir, 'log', '-1', '--format=%an <%ae>|%s', 'main'), 'Jane Doe <jane@example.com>|initial');

  const second = await commitFiles(repository, 'main', 'edit', [
    { header: { action: 'UPDATE', file_path: 'README.md' }, content: 'updated\n' },
    { header: { action: 'MOVE', file_path: 'docs/README.md', previous_path: Buffer.from('README.md'), infer_content: true } },
    { header: { action: 'DELETE', file_path: 'b64.txt' } },
    { header: { action: 'CHMOD', file_path: 'bin/run', execute_filemode: false } },
  ]);
  t.match(second.branch_update, { repo_created: false, branch_created: false });
  t.equal(await git(dir, 'rev-parse', 'main^'), first.branch_update.commit_id);
  t.equal(await git(dir, 'show', 'main:docs/README.md'), 'updated');
  t.equal(await git(dir, 'ls-tree', '--name-only', '-r', 'main'), ['bin/run', 'docs/README.md', 'empty/.gitkeep'].join('\n'));
  t.match(await git(dir, 'ls-tree', 'main', 'bin/run'), /^100644 /);

  const branched = await commitFiles(repository, 'topic', 'on topic', [{ header: { action: 'CREATE', file_path: 't.txt' }, content: 't' }], {
    start_branch_name: Buffer.from('main'),
  });
  t.match(branched.branch_update, { branch_created: true });
  t.equal(await git(dir, 'rev-parse', 'topic^'), second.branch_update.commit_id);

  t.equal(await statusOf(commitFiles(repository, 'main', 'dup', [{ header: { action: 'CREATE', file_path: 'docs/README.md' }, content: 'x' }])), grpc.status.ALREADY_EXISTS);
  t.equal(await statusOf(commitFiles(repository, 'main', 'gone', [{ header: { action: 'DELETE', file_path: 'nope' } }])), grpc.status.NOT_FOUND);
  t.equal(await statusOf(commitFiles(repository, 'main', 'evil', [{ header: { action: 'CREATE', file_path: '../x' }, content: 'x' }])), grpc.status.INVALID_ARGUMENT);
  t.equal(
    await statusOf(commitFiles(repository, 'main', 'stale', [{ header: { action: 'CREATE', file_path: 'n.txt' }, content: 'n' }], { expected_old_oid: first.branch_update.commit_id })),
    grpc.status.FAILED_PRECONDITION,
  );
  t.equal(await git(dir, 'rev-parse', 'main'), second.branch_update.commit_id, 'failed calls left main alone');
});

t.test('branch operations, WriteRef, RefExists, FindBranch, DeleteRefs, UpdateReferences', async (t) => {
  const { repository, dir } = await newRepo();
  const { branch_update: c1 } = await commitFiles(repository, 'main', 'one', [{ header: { action: 'CREATE', file_path: 'a' }, content: '1' }]);
  const { branch_update: c2 } = await commitFiles(repository, 'main', 'two', [{ header: { action: 'UPDATE', file_path: 'a' }, content: '2' }]);

  const created = await rpc.unary<{ branch: { name: Buffer; target_commit: { id: string } } }>('/gitaly.OperationService/UserCreateBranch', {
    repository, user, branch_name: Buffer.from('feature'), start_point: Buffer.from('main~1'),
  });
  t.equal(created.branch.target_commit.id, c1.commit_id);
  t.equal(await statusOf(rpc.unary('/gitaly.OperationService/UserCreateBranch', { repository, user, branch_name: Buffer.from('feature'), start_point: Buffer.from('main') })), grpc.status.FAILED_PRECONDITION);
  t.equal(await statusOf(rpc.unary('/gitaly.OperationService/UserCreateBranch', { repository, user, branch_name: Buffer.from('x'), start_point: Buffer.from('nope') })), grpc.status.FAILED_PRECONDITION);

  await rpc.unary('/gitaly.OperationService/UserUpdateBranch', { repository, user, branch_name: Buffer.from('feature'), newrev: Buffer.from(c2.commit_id), oldrev: Buffer.from(c1.commit_id) });
  t.equal(await git(dir, 'rev-parse', 'feature'), c2.commit_id);
  t.equal(await statusOf(rpc.unary('/gitaly.OperationService/UserUpdateBranch', { repository, user, branch_name: Buffer.from('feature'), newrev: Buffer.from(c1.commit_id), oldrev: Buffer.from(c1.commit_id) })), grpc.status.FAILED_PRECONDITION);

  await rpc.unary('/gitaly.RepositoryService/WriteRef', { repository, ref: Buffer.from('refs/keep/x'), revision: Buffer.from(c1.commit_id) });
  t.same(await rpc.unary('/gitaly.RefService/RefExists', { repository, ref: Buffer.from('refs/keep/x') }), { value: true });
  t.equal(await statusOf(rpc.unary('/gitaly.RepositoryService/WriteRef', { repository, ref: Buffer.from('refs/keep/x'), revision: Buffer.from(c2.commit_id), old_revision: Buffer.from(c2.commit_id) })), grpc.status.FAILED_PRECONDITION);
  await rpc.unary('/gitaly.RepositoryService/WriteRef', { repository, ref: Buffer.from('refs/keep/x'), revision: Buffer.from(c2.commit_id), old_revision: Buffer.from(c1.commit_id) });
  t.equal(await git(dir, 'rev-parse', 'refs/keep/x'), c2.commit_id);
  t.equal(await statusOf(rpc.unary('/gitaly.RepositoryService/WriteRef', { repository, ref: Buffer.from('refs/keep/new'), revision: Buffer.from(c1.commit_id), old_revision: Buffer.from('0'.repeat(40)) })), 'ok');
  t.equal(await statusOf(rpc.unary('/gitaly.RepositoryService/WriteRef', { repository, ref: Buffer.from('refs/keep/new'), revision: Buffer.from(c2.commit_id), old_revision: Buffer.from('0'.repeat(40)) })), grpc.status.FAILED_PRECONDITION);
  await rpc.unary('/gitaly.RepositoryService/WriteRef', { repository, ref: Buffer.from('HEAD'), revision: Buffer.from('refs/heads/feature') });
  t.equal(await git(dir, 'symbolic-ref', 'HEAD'), 'refs/heads/feature');
  t.equal(await statusOf(rpc.unary('/gitaly.RepositoryService/WriteRef', { repository, ref: Buffer.from('refs/heads/bad..name'), revision: Buffer.from(c1.commit_id) })), grpc.status.INVALID_ARGUMENT);

  // A stale lock file from another writer: ABORTED, not INTERNAL.
  const { writeFile, rm } = await import('node:fs/promises');
  await writeFile(path.join(dir, 'refs/keep/x.lock'), '');
  t.equal(await statusOf(rpc.unary('/gitaly.RepositoryService/WriteRef', { repository, ref: Buffer.from('refs/keep/x'), revision: Buffer.from(c1.commit_id) })), grpc.status.ABORTED);
  await rm(path.join(dir, 'refs/keep/x.lock'));

  const found = await rpc.unary<{ branch: { name: Buffer; target_commit: { id: string } } }>('/gitaly.RefService/FindBranch', { repository, name: Buffer.from('refs/heads/feature') });
  t.equal(found.branch.name.toString(), 'feature');

  await rpc.clientStream('/gitaly.RefService/UpdateReferences', [
    { repository, updates: [{ reference: Buffer.from('refs/heads/u1'), old_object_id: Buffer.from('0'.repeat(40)), new_object_id: Buffer.from(c1.commit_id) }] },
    { updates: [{ reference: Buffer.from('refs/heads/u2'), old_object_id: Buffer.alloc(0), new_object_id: Buffer.from(c2.commit_id) }] },
  ]);
  t.equal(await git(dir, 'rev-parse', 'u1', 'u2'), `${c1.commit_id}\n${c2.commit_id}`);
  t.equal(
    await statusOf(rpc.clientStream('/gitaly.RefService/UpdateReferences', [
      { repository, updates: [
        { reference: Buffer.from('refs/heads/u3'), old_object_id: Buffer.from('0'.repeat(40)), new_object_id: Buffer.from(c1.commit_id) },
        { reference: Buffer.from('refs/heads/u1'), old_object_id: Buffer.from(c2.commit_id), new_object_id: Buffer.from(c2.commit_id) },
      ] },
    ])),
    grpc.status.ABORTED,
  );
  t.same(await rpc.unary('/gitaly.RefService/RefExists', { repository, ref: Buffer.from('refs/heads/u3') }), { value: false }, 'the transaction was atomic');

  await rpc.unary('/gitaly.RefService/DeleteRefs', { repository, refs: [Buffer.from('refs/heads/u1'), Buffer.from('refs/keep/x')] });
  t.same(await rpc.unary('/gitaly.RefService/RefExists', { repository, ref: Buffer.from('refs/heads/u1') }), { value: false });
  await rpc.unary('/gitaly.RefService/DeleteRefs', { repository, except_with_prefix: [Buffer.from('refs/heads/')] });
  t.equal(await git(dir, 'for-each-ref', '--format=%(refname)', 'refs/keep/'), '');
  t.equal(await statusOf(rpc.unary('/gitaly.RefService/DeleteRefs', { repository })), grpc.status.INVALID_ARGUMENT);

  await rpc.unary('/gitaly.OperationService/UserDeleteBranch', { repository, user, branch_name: Buffer.from('u2') });
  t.same(await rpc.unary('/gitaly.RefService/FindBranch', { repository, name: Buffer.from('u2') }), { branch: null });
  t.equal(await statusOf(rpc.unary('/gitaly.OperationService/UserDeleteBranch', { repository, user, branch_name: Buffer.from('u2') })), grpc.status.FAILED_PRECONDITION);
});

t.test('bundle round trip, checksum, optimize, remove', async (t) => {
  const { repository } = await newRepo();
  await commitFiles(repository, 'main', 'one', [{ header: { action: 'CREATE', file_path: 'a' }, content: 'a' }]);
  await commitFiles(repository, 'other', 'two', [{ header: { action: 'CREATE', file_path: 'b' }, content: 'b' }]);
  const chunks = await rpc.serverStream<{ data: Buffer }>('/gitaly.RepositoryService/CreateBundle', { repository });
  const bundle = Buffer.concat(chunks.map((c) => c.data));
  t.match(bundle.subarray(0, 20).toString(), /^# v2 git bundle/);
  const copy = { storage_name: 'default', relative_path: 'repos/from-bundle.git' };
  const pieces = [];
  for (let i = 0; i < bundle.length; i += 100) pieces.push({ data: bundle.subarray(i, i + 100), ...(i === 0 ? { repository: copy } : {}) });
  await rpc.clientStream('/gitaly.RepositoryService/CreateRepositoryFromBundle', pieces);
  const a = await rpc.unary<{ checksum: string }>('/gitaly.RepositoryService/CalculateChecksum', { repository });
  const b = await rpc.unary<{ checksum: string }>('/gitaly.RepositoryService/CalculateChecksum', { repository: copy });
  t.not(a.checksum, '0'.repeat(40));
  t.equal(b.checksum, a.checksum);
  t.equal(await git(path.join(storagePath, copy.relative_path), 'symbolic-ref', 'HEAD'), 'refs/heads/main');
  t.equal(await statusOf(rpc.clientStream('/gitaly.RepositoryService/CreateRepositoryFromBundle', [{ repository: copy, data: bundle }])), grpc.status.ALREADY_EXISTS);

  await rpc.unary('/gitaly.RepositoryService/OptimizeRepository', { repository, strategy: 'STRATEGY_EAGER' });
  t.same(await rpc.unary('/gitaly.RepositoryService/CalculateChecksum', { repository }), a);

  const empty = await newRepo();
  t.equal(await statusOf(rpc.serverStream('/gitaly.RepositoryService/CreateBundle', { repository: empty.repository })), grpc.status.FAILED_PRECONDITION);

  await rpc.unary('/gitaly.RepositoryService/RemoveRepository', { repository: copy });
  t.same(await rpc.unary('/gitaly.RepositoryService/RepositoryExists', { repository: copy }), { exists: false });
  t.equal(await statusOf(rpc.unary('/gitaly.RepositoryService/RemoveRepository', { repository: copy })), grpc.status.NOT_FOUND);
});

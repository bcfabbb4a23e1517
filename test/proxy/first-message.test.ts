// The first-message peek and rewrite, on the registry's real field paths.
import t from 'tap';
import protobuf from 'protobufjs';
import { gitalyProtocol, TO_OBJECT_OPTIONS, type MethodInfo } from '../../src/protocol/index.js';
import { FirstMessageCodec, InvalidRequestError } from '../../src/proxy/index.js';

const { root, registry } = gitalyProtocol();
const codec = new FirstMessageCodec(root);
const method = (path: string): MethodInfo => {
  const info = registry.get(path);
  if (info === undefined) throw new Error(`no ${path}`);
  return info;
};
const encode = (type: string, value: object): Buffer => {
  const messageType = root.lookupType(type);
  return Buffer.from(messageType.encode(messageType.fromObject(value)).finish());
};
const decode = (type: string, bytes: Uint8Array): Record<string, unknown> => {
  const messageType = root.lookupType(type);
  return messageType.toObject(messageType.decode(bytes), TO_OBJECT_OPTIONS);
};
/** The InvalidRequestError fn throws; fails the test if it throws nothing or something else. */
function refusal(fn: () => unknown): InvalidRequestError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InvalidRequestError) return error;
    throw error;
  }
  throw new Error('accepted');
}
const rewrite = { storageName: 'physical', relativePath: '@cluster/repositories/ab/cd/1' };

t.test('top-level repository: read, rewrite, everything else untouched', async (t) => {
  const findBranch = method('/gitaly.RefService/FindBranch');
  const repository = { storage_name: 'virtual', relative_path: 'group/project.git', gl_repository: 'project-1', git_alternate_object_directories: ['objects/a'] };
  const bytes = encode('gitaly.FindBranchRequest', { repository, name: Buffer.from('main') });
  t.same(codec.read(findBranch, bytes), { repository: { storage_name: 'virtual', relative_path: 'group/project.git' } });
  const out = codec.rewrite(findBranch, bytes, { target: { address: 'x' }, rewrite });
  t.match(decode('gitaly.FindBranchRequest', out), {
    repository: { storage_name: 'physical', relative_path: '@cluster/repositories/ab/cd/1', gl_repository: 'project-1', git_alternate_object_directories: ['objects/a'] },
    name: Buffer.from('main'),
  });
  t.equal(codec.rewrite(findBranch, bytes, { target: { address: 'x' } }), bytes, 'no rewrite leaves the bytes as they are');
});

t.test('unknown fields survive the rewrite, outside and inside the path', async (t) => {
  const exists = method('/gitaly.RepositoryService/RepositoryExists');
  const unknown = protobuf.Writer.create().uint32((99 << 3) | 2).string('keep me').finish();
  const bytes = Buffer.concat([encode('gitaly.RepositoryExistsRequest', { repository: { storage_name: 'virtual', relative_path: 'a.git' } }), unknown]);
  const out = Buffer.from(codec.rewrite(exists, bytes, { target: { address: 'x' }, rewrite }));
  t.ok(out.subarray(out.length - unknown.length).equals(unknown), 'the unknown field is byte-identical');
});

t.test('nested path: UserCommitFiles keeps its repository in header.repository', async (t) => {
  const commitFiles = method('/gitaly.OperationService/UserCommitFiles');
  const header = { repository: { storage_name: 'virtual', relative_path: 'a.git' }, branch_name: Buffer.from('main'), commit_message: Buffer.from('m') };
  const bytes = encode('gitaly.UserCommitFilesRequest', { header });
  t.same(codec.read(commitFiles, bytes).repository, { storage_name: 'virtual', relative_path: 'a.git' });
  const out = decode('gitaly.UserCommitFilesRequest', codec.rewrite(commitFiles, bytes, { target: { address: 'x' }, rewrite }));
  t.match(out, { header: { repository: { storage_name: 'physical', relative_path: rewrite.relativePath }, branch_name: Buffer.from('main'), commit_message: Buffer.from('m') } });
  t.match(refusal(() => codec.read(commitFiles, encode('gitaly.UserCommitFilesRequest', { header: { branch_name: Buffer.from('x') } }))), { field: 'header.repository', detail: 'missing' });
});

t.test('additional repository: read when present, rewritten separately, optional', async (t) => {
  const replicate = method('/gitaly.RepositoryService/ReplicateRepository');
  const bytes = encode('gitaly.ReplicateRepositoryRequest', { repository: { storage_name: 'virtual', relative_path: 'a.git' }, source: { storage_name: 'virtual', relative_path: 'b.git' } });
  t.same(codec.read(replicate, bytes), {
    repository: { storage_name: 'virtual', relative_path: 'a.git' },
    additionalRepository: { storage_name: 'virtual', relative_path: 'b.git' },
  });
  const out = decode('gitaly.ReplicateRepositoryRequest', codec.rewrite(replicate, bytes, { target: { address: 'x' }, rewrite, additionalRewrite: { storageName: 'other', relativePath: 'src' } }));
  t.match(out, { repository: { storage_name: 'physical' }, source: { storage_name: 'other', relative_path: 'src' } });
  const without = encode('gitaly.ReplicateRepositoryRequest', { repository: { storage_name: 'virtual', relative_path: 'a.git' } });
  t.same(codec.read(replicate, without), { repository: { storage_name: 'virtual', relative_path: 'a.git' } });
  const badSource = encode('gitaly.ReplicateRepositoryRequest', { repository: { storage_name: 'virtual', relative_path: 'a.git' }, source: { storage_name: 'virtual', relative_path: '../b' } });
  t.match(refusal(() => codec.read(replicate, badSource)), { field: 'source.relative_path' });
});

t.test('refusals name the field', async (t) => {
  const exists = method('/gitaly.RepositoryService/RepositoryExists');
  const refuse = (bytes: Buffer): InvalidRequestError => refusal(() => codec.read(exists, bytes));
  const repo = (relative_path: string, storage_name = 'virtual') => encode('gitaly.RepositoryExistsRequest', { repository: { storage_name, relative_path } });
  t.match(refuse(Buffer.alloc(0)), { field: 'repository', detail: 'missing', code: 'PROXY_INVALID_REQUEST' });
  t.match(refuse(repo('a/../../b')), { field: 'repository.relative_path', detail: /escapes/ });
  t.match(refuse(repo('..')), { field: 'repository.relative_path' });
  t.match(refuse(repo('/abs')), { field: 'repository.relative_path', detail: /absolute/ });
  t.match(refuse(repo('a\0b')), { field: 'repository.relative_path', detail: /NUL/ });
  t.match(refuse(repo('x'.repeat(4097))), { field: 'repository.relative_path', detail: /longer than/ });
  t.match(refuse(repo('a.git', '')), { field: 'repository.storage_name', detail: 'empty' });
  t.match(refuse(repo('a.git', 'v\0')), { field: 'repository.storage_name', detail: /NUL/ });
  t.match(refuse(Buffer.concat([repo('a.git'), repo('b.git')])), { field: 'repository', detail: 'given more than once' });
  t.match(refuse(Buffer.from([0x0a, 0x02, 0x12, 0x05])), { field: 'repository', detail: /malformed Repository/ });
  t.match(refuse(Buffer.from([0x0b])), { field: 'repository', detail: /wire type 3/ });
  t.match(refuse(Buffer.from([0x10, 0xff])), { field: 'gitaly.RepositoryExistsRequest', detail: /malformed protobuf/ });
  t.doesNotThrow(() => codec.read(exists, repo('a..b/c..d.git')), '".." inside a name is fine');
});

t.test('every repository-scoped method of the registry round-trips a rewrite', async (t) => {
  for (const info of registry.all().filter((m) => m.scope === 'repository')) {
    const path = info.targetRepository;
    if (path === undefined) continue;
    const value: Record<string, unknown> = {};
    let cursor = value;
    path.names.forEach((name, index) => {
      cursor[name] = index === path.names.length - 1 ? { storage_name: 'virtual', relative_path: 'r.git' } : {};
      cursor = cursor[name] as Record<string, unknown>;
    });
    const bytes = encode(info.requestType, value);
    const out = codec.rewrite(info, bytes, { target: { address: 'x' }, rewrite });
    t.same(codec.read(info, out).repository, { storage_name: 'physical', relative_path: rewrite.relativePath }, info.path);
  }
});

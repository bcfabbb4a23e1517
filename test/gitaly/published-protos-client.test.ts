// A client built from Gitaly's own published .proto files (Debian's
// golang-gitaly-proto-dev, an older set), not from ours, calls every RPC of
// the table. RPCs that set lacks are called through a descriptor written
// independently from Gitaly's current protocol (fixtures/upstream-current-protocol.ts).
import { existsSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { v2TokenInterceptor } from '../../src/auth/index.js';
import { FLUSH_PKT, pktLine } from '../../src/gitaly/git/index.js';
import { withGitalyServers } from '../../src/gitaly/gitaly-servers.js';
import { git, gitOutput, seedWorkRepo } from './fixtures/git.js';
import { startInProcessNode } from './fixtures/node.js';
import { currentUpstreamDefinitions } from './fixtures/upstream-current-protocol.js';

export const PUBLISHED_PROTO_DIR = '/usr/share/gocode/src/gitlab.com/gitlab-org/gitaly-proto';
const FILES = ['server.proto', 'repository-service.proto', 'ref.proto', 'commit.proto', 'blob.proto', 'operations.proto', 'smarthttp.proto', 'ssh.proto'];

if (!existsSync(path.join(PUBLISHED_PROTO_DIR, 'shared.proto'))) {
  t.plan(0, `Gitaly's published protos are missing: apt-get install golang-gitaly-proto-dev (expects ${PUBLISHED_PROTO_DIR})`);
} else {
  await run();
}

type Unary = (req: unknown, md: grpc.Metadata, cb: (e: grpc.ServiceError | null, r: Record<string, unknown>) => void) => void;
type Stream = (req: unknown, md?: grpc.Metadata) => grpc.ClientReadableStream<Record<string, unknown>>;
type ClientStream = (md: grpc.Metadata, cb: (e: grpc.ServiceError | null, r: Record<string, unknown>) => void) => grpc.ClientWritableStream<unknown>;
type Bidi = (md?: grpc.Metadata) => grpc.ClientDuplexStream<unknown, Record<string, unknown>>;

async function run(): Promise<void> {
  const TOKEN = 'published-protos-secret';
  const node = await startInProcessNode({ token: TOKEN });
  const published = grpc.loadPackageDefinition(
    protoLoader.loadSync(FILES, { includeDirs: [PUBLISHED_PROTO_DIR], keepCase: true, enums: String, longs: Number, defaults: true, oneofs: true }),
  );
  const current = grpc.loadPackageDefinition(currentUpstreamDefinitions());
  const clients: grpc.Client[] = [];
  const make = (pkg: grpc.GrpcObject, name: string): Record<string, (...args: never[]) => unknown> => {
    const [ns, service] = name.split('.') as [string, string];
    const Ctor = ((name.startsWith('grpc.') ? ((pkg['grpc'] as grpc.GrpcObject)['health'] as grpc.GrpcObject)['v1'] : pkg[ns]) as grpc.GrpcObject)[name.startsWith('grpc.') ? 'Health' : service] as grpc.ServiceClientConstructor;
    const client = new Ctor(node.address, grpc.credentials.createInsecure(), { interceptors: [v2TokenInterceptor(TOKEN)] });
    clients.push(client);
    return client as unknown as Record<string, (...args: never[]) => unknown>;
  };
  t.teardown(async () => {
    clients.forEach((c) => c.close());
    await node.close();
  });

  const unary = (client: Record<string, unknown>, method: string, request: unknown, md = new grpc.Metadata()): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => (client[method] as Unary).call(client, request, md, (e, r) => (e ? reject(e) : resolve(r))));
  const stream = async (client: Record<string, unknown>, method: string, request: unknown): Promise<Array<Record<string, unknown>>> => {
    const out: Array<Record<string, unknown>> = [];
    for await (const m of (client[method] as Stream).call(client, request, new grpc.Metadata())) out.push(m as Record<string, unknown>);
    return out;
  };
  const upload = (client: Record<string, unknown>, method: string, requests: unknown[]): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const call = (client[method] as ClientStream).call(client, new grpc.Metadata(), (e, r) => (e ? reject(e) : resolve(r)));
      requests.forEach((r) => call.write(r));
      call.end();
    });
  const duplex = async (client: Record<string, unknown>, method: string, requests: unknown[]): Promise<Array<Record<string, unknown>>> => {
    const call = (client[method] as Bidi).call(client, new grpc.Metadata());
    requests.forEach((r) => call.write(r));
    call.end();
    const out: Array<Record<string, unknown>> = [];
    for await (const m of call) out.push(m as Record<string, unknown>);
    return out;
  };

  const server = make(published, 'gitaly.ServerService');
  const repo = make(published, 'gitaly.RepositoryService');
  const ref = make(published, 'gitaly.RefService');
  const commit = make(published, 'gitaly.CommitService');
  const blob = make(published, 'gitaly.BlobService');
  const ops = make(published, 'gitaly.OperationService');
  const http = make(published, 'gitaly.SmartHTTPService');
  const ssh = make(published, 'gitaly.SSHService');
  const health = make(current, 'grpc.health.v1.Health');
  const serverNow = make(current, 'gitaly.ServerService');
  const repoNow = make(current, 'gitaly.RepositoryService');
  const refNow = make(current, 'gitaly.RefService');
  const commitNow = make(current, 'gitaly.CommitService');

  const repository = { storage_name: 'default', relative_path: 'published/repo.git' };
  const user = { gl_id: 'u1', name: Buffer.from('Old Client'), email: Buffer.from('old@example.com'), gl_username: 'old' };
  const called = new Set<string>();
  const mark = (name: string): void => void called.add(name);

  await t.test('ServerService and Health', async (t) => {
    const info = await unary(server, 'ServerInfo', {});
    t.match(info, { storage_statuses: [{ storage_name: 'default', readable: true, writeable: true }] });
    t.ok((info['storage_statuses'] as Array<{ filesystem_id: string }>)[0]?.filesystem_id);
    mark('ServerInfo');
    t.match(await unary(serverNow, 'DiskStatistics', {}), { storage_statuses: [{ storage_name: 'default' }] });
    mark('DiskStatistics');
    t.match(await unary(serverNow, 'ReadinessCheck', {}), { ok_response: {} });
    mark('ReadinessCheck');
    t.same(await unary(health, 'Check', {}), { status: 'SERVING' });
    mark('Check');
  });

  let first = '';
  let second = '';
  await t.test('create, write, read', async (t) => {
    await unary(repo, 'CreateRepository', { repository });
    mark('CreateRepository');
    t.same(await unary(repo, 'RepositoryExists', { repository }), { exists: true });
    mark('RepositoryExists');
    const committed = await upload(ops, 'UserCommitFiles', [
      { header: { repository, user, branch_name: Buffer.from('main'), commit_message: Buffer.from('from the old client') } },
      { action: { header: { action: 'CREATE', file_path: Buffer.from('hello.txt') } } },
      { action: { content: Buffer.from('hello\n') } },
    ]);
    first = (committed['branch_update'] as { commit_id: string }).commit_id;
    t.match(committed, { branch_update: { repo_created: true, branch_created: true } });
    const again = await upload(ops, 'UserCommitFiles', [
      { header: { repository, user, branch_name: Buffer.from('main'), commit_message: Buffer.from('second') } },
      { action: { header: { action: 'UPDATE', file_path: Buffer.from('hello.txt') } } },
      { action: { content: Buffer.from('hello again\n') } },
    ]);
    second = (again['branch_update'] as { commit_id: string }).commit_id;
    mark('UserCommitFiles');
    const created = await unary(ops, 'UserCreateBranch', { repository, user, branch_name: Buffer.from('side'), start_point: Buffer.from(first) });
    t.equal((created['branch'] as { target_commit: { id: string } }).target_commit.id, first);
    mark('UserCreateBranch');
    await unary(ops, 'UserUpdateBranch', { repository, user, branch_name: Buffer.from('side'), newrev: Buffer.from(second), oldrev: Buffer.from(first) });
    mark('UserUpdateBranch');
    await unary(repo, 'WriteRef', { repository, ref: Buffer.from('refs/tags/v1'), revision: Buffer.from(first) });
    mark('WriteRef');
    t.same(await unary(ref, 'RefExists', { repository, ref: Buffer.from('refs/tags/v1') }), { value: true });
    mark('RefExists');
    t.match(await unary(ref, 'FindBranch', { repository, name: Buffer.from('side') }), { branch: { name: Buffer.from('side'), target_commit: { id: second } } });
    mark('FindBranch');
    t.match(await unary(ref, 'FindDefaultBranchName', { repository }), { name: Buffer.from('refs/heads/main') });
    mark('FindDefaultBranchName');
    const names = (await stream(ref, 'FindAllBranchNames', { repository })).flatMap((m) => (m['names'] as Buffer[]).map(String));
    t.same(names, ['refs/heads/main', 'refs/heads/side']);
    mark('FindAllBranchNames');
    // The published set predates Branch in this response (field 1 then,
    // field 2 now): the call succeeds and the old client sees no entries.
    t.ok((await stream(ref, 'FindLocalBranches', { repository })).length > 0);
    mark('FindLocalBranches');
    const tags = (await stream(ref, 'FindAllTags', { repository })).flatMap((m) => m['tags'] as Array<{ name: Buffer; target_commit: { id: string } }>);
    t.same(tags.map((tag) => [String(tag.name), tag.target_commit.id]), [['v1', first]]);
    mark('FindAllTags');
    t.match(await unary(commit, 'FindCommit', { repository, revision: Buffer.from('main') }), { commit: { id: second, parent_ids: [first], subject: Buffer.from('second') } });
    mark('FindCommit');
    t.same(await unary(commit, 'CountCommits', { repository, revision: Buffer.from('main') }), { count: 2 });
    mark('CountCommits');
    const blobId = await git(path.join(node.storages['default'] as string, repository.relative_path), 'rev-parse', 'main:hello.txt');
    const data = await stream(blob, 'GetBlob', { repository, oid: blobId, limit: -1 });
    t.equal(Buffer.concat(data.map((m) => m['data'] as Buffer)).toString(), 'hello again\n');
    mark('GetBlob');
    t.same(await unary(repo, 'FindMergeBase', { repository, revisions: [Buffer.from('main'), Buffer.from('refs/tags/v1')] }), { base: first });
    mark('FindMergeBase');
    t.ok(((await unary(repo, 'RepositorySize', { repository }))['size'] as number) >= 0);
    mark('RepositorySize');
    t.match(await unary(repo, 'CalculateChecksum', { repository }), { checksum: /^[0-9a-f]+$/ });
    mark('CalculateChecksum');
  });

  await t.test('current-protocol RPCs', async (t) => {
    const refs = (await stream(refNow, 'ListRefs', { repository, patterns: [Buffer.from('refs/heads/')], head: true })).flatMap((m) => m['references'] as Array<{ name: Buffer }>);
    t.same(refs.map((r) => String(r.name)), ['HEAD', 'refs/heads/main', 'refs/heads/side']);
    mark('ListRefs');
    await upload(refNow, 'UpdateReferences', [{ repository, updates: [{ reference: Buffer.from('refs/heads/updated'), old_object_id: Buffer.from('0'.repeat(40)), new_object_id: Buffer.from(first) }] }]);
    t.same(await unary(ref, 'RefExists', { repository, ref: Buffer.from('refs/heads/updated') }), { value: true });
    mark('UpdateReferences');
    const listed = (await stream(commitNow, 'ListCommits', { repository, revisions: ['main'], reverse: true })).flatMap((m) => m['commits'] as Array<{ id: string }>);
    t.same(listed.map((c) => c.id), [first, second]);
    mark('ListCommits');
    await unary(repoNow, 'OptimizeRepository', { repository, strategy: 'STRATEGY_EAGER' });
    mark('OptimizeRepository');
    const copy = { storage_name: 'default', relative_path: 'published/replica.git' };
    const md = withGitalyServers(new grpc.Metadata(), { default: { address: `tcp://${node.address}`, token: TOKEN } });
    await unary(repoNow, 'ReplicateRepository', { repository: copy, source: repository }, md);
    t.same(await unary(repo, 'CalculateChecksum', { repository: copy }), await unary(repo, 'CalculateChecksum', { repository }));
    mark('ReplicateRepository');
    await unary(repoNow, 'RemoveRepository', { repository: copy });
    t.same(await unary(repo, 'RepositoryExists', { repository: copy }), { exists: false });
    mark('RemoveRepository');
  });

  await t.test('bundles', async (t) => {
    const bundle = Buffer.concat((await stream(repo, 'CreateBundle', { repository })).map((m) => m['data'] as Buffer));
    mark('CreateBundle');
    const copy = { storage_name: 'default', relative_path: 'published/from-bundle.git' };
    await upload(repo, 'CreateRepositoryFromBundle', [{ repository: copy, data: bundle }]);
    t.same(await unary(repo, 'CalculateChecksum', { repository: copy }), await unary(repo, 'CalculateChecksum', { repository }));
    mark('CreateRepositoryFromBundle');
  });

  await t.test('smart HTTP and SSH', async (t) => {
    const adv = Buffer.concat((await stream(http, 'InfoRefsUploadPack', { repository })).map((m) => m['data'] as Buffer)).toString();
    t.match(adv, /^001e# service=git-upload-pack\n0000/);
    t.match(adv, new RegExp(`${second} refs/heads/main`));
    mark('InfoRefsUploadPack');
    const radv = Buffer.concat((await stream(http, 'InfoRefsReceivePack', { repository })).map((m) => m['data'] as Buffer)).toString();
    t.match(radv, /# service=git-receive-pack/);
    mark('InfoRefsReceivePack');
    const want = Buffer.concat([pktLine(`want ${second} ofs-delta\n`), FLUSH_PKT, pktLine('done\n')]);
    const pack = Buffer.concat((await duplex(http, 'PostUploadPack', [{ repository }, { data: want }])).map((m) => m['data'] as Buffer));
    t.match(pack.subarray(0, 8).toString(), /^0008NAK\n/);
    t.ok(pack.includes(Buffer.from('PACK')));
    mark('PostUploadPack');

    // A push of one new commit on top of main, as git send-pack would send it.
    const work = await seedWorkRepo();
    const bare = path.join(node.storages['default'] as string, repository.relative_path);
    await git(work.dir, 'fetch', '-q', bare, 'main:imported');
    await git(work.dir, 'checkout', '-q', 'imported');
    await git(work.dir, 'commit', '-q', '--allow-empty', '-m', 'pushed by PostReceivePack');
    const pushed = await git(work.dir, 'rev-parse', 'HEAD');
    const packData = await gitOutput(work.dir, `${pushed}\n^${second}\n`, 'pack-objects', '--revs', '--stdout', '-q');
    const body = Buffer.concat([pktLine(`${second} ${pushed} refs/heads/main\0report-status\n`), FLUSH_PKT, packData]);
    const result = Buffer.concat((await duplex(http, 'PostReceivePack', [{ repository, data: body.subarray(0, 10) }, { data: body.subarray(10) }])).map((m) => m['data'] as Buffer)).toString();
    t.match(result, /unpack ok/);
    t.match(result, /ok refs\/heads\/main/);
    t.equal(await git(bare, 'rev-parse', 'main'), pushed);
    mark('PostReceivePack');

    const up = await duplex(ssh, 'SSHUploadPack', [{ repository, stdin: FLUSH_PKT }]);
    t.match(Buffer.concat(up.map((m) => m['stdout'] as Buffer)).toString(), new RegExp(`${pushed} HEAD`));
    t.same(up[up.length - 1]?.['exit_status'], { value: 0 });
    mark('SSHUploadPack');
    const rp = await duplex(ssh, 'SSHReceivePack', [{ repository, stdin: FLUSH_PKT }]);
    t.match(Buffer.concat(rp.map((m) => m['stdout'] as Buffer)).toString(), /report-status/);
    t.same(rp[rp.length - 1]?.['exit_status'], { value: 0 });
    mark('SSHReceivePack');
  });

  await t.test('deletions', async (t) => {
    await unary(ops, 'UserDeleteBranch', { repository, user, branch_name: Buffer.from('side') });
    mark('UserDeleteBranch');
    await unary(ref, 'DeleteRefs', { repository, refs: [Buffer.from('refs/tags/v1')] });
    t.same(await unary(ref, 'RefExists', { repository, ref: Buffer.from('refs/tags/v1') }), { value: false });
    mark('DeleteRefs');
  });

  t.test('every RPC of the table was called', async (t) => {
    const table = [
      'Check', 'ServerInfo', 'DiskStatistics', 'ReadinessCheck', 'RepositoryExists', 'CreateRepository', 'RemoveRepository',
      'RepositorySize', 'WriteRef', 'CalculateChecksum', 'ReplicateRepository', 'CreateBundle', 'CreateRepositoryFromBundle',
      'OptimizeRepository', 'FindMergeBase', 'FindDefaultBranchName', 'FindAllBranchNames', 'FindLocalBranches', 'FindBranch',
      'RefExists', 'DeleteRefs', 'ListRefs', 'FindAllTags', 'UpdateReferences', 'FindCommit', 'CountCommits', 'ListCommits',
      'GetBlob', 'UserCreateBranch', 'UserDeleteBranch', 'UserUpdateBranch', 'UserCommitFiles', 'InfoRefsUploadPack',
      'InfoRefsReceivePack', 'PostUploadPack', 'PostReceivePack', 'SSHUploadPack', 'SSHReceivePack',
    ];
    t.same(table.filter((name) => !called.has(name)), []);
  });
}

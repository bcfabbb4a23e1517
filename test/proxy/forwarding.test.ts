// The forwarder in front of a real storage node (bin/gitaly's compiled
// code, its own process): all four call kinds, git over SSHService, the
// refusals, and the server-scoped fan-out.
import { existsSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { gitalyClient } from '../../src/gitaly/index.js';
import { gitalyProtocol } from '../../src/protocol/index.js';
import { git, seedWorkRepo, tempDir } from '../gitaly/fixtures/git.js';
import { Rpc, statusOf } from '../gitaly/fixtures/rpc.js';
import { sshBridgeUrl } from '../gitaly/fixtures/ssh-bridge.js';
import { rawClientStreamStatus, rawUnaryStatus, tokenMetadata } from './fixtures/raw-call.js';
import { replicaPath, staticRouter, VIRTUAL_STORAGE } from './fixtures/static-router.js';
import { distBuilt, startStorageNode } from './fixtures/storage-node.js';
import { TRANSPORTS } from './fixtures/transports.js';

const NODE_TOKEN = 'internal node secret';
const CLIENT_TOKEN = 'external client secret';

if (!distBuilt()) {
  t.plan(0, 'dist/ lacks the storage node: run `npm run build`');
  process.exit(0);
}

const user = { gl_id: 'user-1', name: Buffer.from('Jane Doe'), email: Buffer.from('jane@example.com'), gl_username: 'jane', timezone: 'UTC' };

const node = await startStorageNode(NODE_TOKEN);
t.teardown(() => node.stop());

for (const [transport, startProxy] of TRANSPORTS) {
  t.test(transport, async (t) => {
    const router = staticRouter({ address: node.address, token: NODE_TOKEN });
    const proxy = await startProxy({
      router,
      auth: { token: CLIENT_TOKEN },
      nodes: async () => [{ address: node.address, token: NODE_TOKEN, storages: [{ storage: 'default', virtualStorage: VIRTUAL_STORAGE }] }],
      serverVersion: 'router-test',
    });
    const rpc = new Rpc(proxy.address, CLIENT_TOKEN);
    const raw = new grpc.Client(proxy.address, grpc.credentials.createInsecure());
    t.teardown(async () => {
      rpc.close();
      raw.close();
      await proxy.close();
    });
    const virtualRepo = (relative: string) => ({ storage_name: VIRTUAL_STORAGE, relative_path: `${transport}/${relative}` });

    t.test('unary: CreateRepository and RepositoryExists reach the replica path', async (t) => {
      const repository = virtualRepo('unary/one.git');
      await rpc.unary('/gitaly.RepositoryService/CreateRepository', { repository });
      t.ok(existsSync(path.join(node.storageDir, replicaPath(`${transport}/unary/one.git`), 'HEAD')), 'created at the rewritten path');
      t.same(await rpc.unary('/gitaly.RepositoryService/RepositoryExists', { repository }), { exists: true });
      t.same(await rpc.unary('/gitaly.RepositoryService/RepositoryExists', { repository: virtualRepo('unary/none.git') }), { exists: false });
      const seen = router.requests.at(-1);
      t.same(seen?.repository, virtualRepo('unary/none.git'), 'the router saw the virtual repository');
      t.equal(seen?.method.path, '/gitaly.RepositoryService/RepositoryExists');
    });

    t.test('client streaming, unary and server streaming on one repository', async (t) => {
      const repository = virtualRepo('streams/repo.git');
      await rpc.unary('/gitaly.RepositoryService/CreateRepository', { repository });
      const committed = await rpc.clientStream<{ branch_update: { commit_id: string; branch_created: boolean } }>('/gitaly.OperationService/UserCommitFiles', [
        { header: { repository, user, branch_name: Buffer.from('main'), commit_message: Buffer.from('first') } },
        { action: { header: { action: 'CREATE', file_path: Buffer.from('README.md') } } },
        { action: { content: Buffer.from('hello through the router\n') } },
      ]);
      t.equal(committed.branch_update.branch_created, true, 'UserCommitFiles (client streaming) created the branch');
      const dir = path.join(node.storageDir, replicaPath(`${transport}/streams/repo.git`));
      t.equal(await git(dir, 'rev-parse', 'refs/heads/main'), committed.branch_update.commit_id);

      await rpc.unary('/gitaly.OperationService/UserCreateBranch', { repository, branch_name: Buffer.from('topic'), start_point: Buffer.from('main'), user });
      const found = await rpc.unary<{ branch: { name: Buffer; target_commit: { id: string } } }>('/gitaly.RefService/FindBranch', { repository, name: Buffer.from('topic') });
      t.equal(found.branch.name.toString(), 'topic');
      t.equal(found.branch.target_commit.id, committed.branch_update.commit_id, 'FindBranch (unary)');

      const names = (await rpc.serverStream<{ names: Buffer[] }>('/gitaly.RefService/FindAllBranchNames', { repository })).flatMap((m) => m.names.map(String));
      t.same(names.sort(), ['refs/heads/main', 'refs/heads/topic'], 'FindAllBranchNames (server streaming)');
      const refs = (await rpc.serverStream<{ references: Array<{ name: Buffer }> }>('/gitaly.RefService/ListRefs', { repository, patterns: [Buffer.from('refs/heads/')] }))
        .flatMap((m) => m.references.map((r) => r.name.toString()));
      t.same(refs.sort(), ['refs/heads/main', 'refs/heads/topic'], 'ListRefs (server streaming)');
    });

    t.test('bidi: git push over SSHReceivePack and clone over SSHUploadPack', async (t) => {
      const work = await seedWorkRepo();
      const repository = virtualRepo('ssh/pushed.git');
      await rpc.unary('/gitaly.RepositoryService/CreateRepository', { repository });
      const push = await sshBridgeUrl(rpc, repository);
      await git(work.dir, 'push', '-q', push.url, 'refs/heads/*:refs/heads/*', 'refs/tags/*:refs/tags/*');
      t.equal(await push.done, 0, 'receive-pack exited 0');
      const clone = path.join(await tempDir('proxy-clone-'), 'clone.git');
      const fetch = await sshBridgeUrl(rpc, repository);
      await git(path.dirname(clone), 'clone', '-q', '--mirror', fetch.url, clone);
      t.equal(await fetch.done, 0, 'upload-pack exited 0');
      const refsOf = (dir: string) => git(dir, 'for-each-ref', '--format=%(refname) %(objectname)');
      t.equal(await refsOf(clone), await refsOf(work.dir), 'the clone has every ref pushed');
    });

    t.test('a client that compresses its messages (gzip)', async (t) => {
      const gzip = { channelOptions: { 'grpc.default_compression_algorithm': 2 } };
      type Callback<T> = (error: grpc.ServiceError | null, response: T) => void;
      const repositories = gitalyClient('gitaly.RepositoryService', proxy.address, { token: CLIENT_TOKEN, ...gzip }) as grpc.Client & {
        RepositoryExists(request: object, callback: Callback<{ exists: boolean }>): void;
      };
      const operations = gitalyClient('gitaly.OperationService', proxy.address, { token: CLIENT_TOKEN, ...gzip }) as grpc.Client & {
        UserCommitFiles(callback: Callback<{ branch_update: { branch_created: boolean } }>): grpc.ClientWritableStream<unknown>;
      };
      t.teardown(() => {
        repositories.close();
        operations.close();
      });
      const repository = virtualRepo('compressed/repo.git');
      await rpc.unary('/gitaly.RepositoryService/CreateRepository', { repository });
      const exists = await new Promise((resolve, reject) => repositories.RepositoryExists({ repository }, (error, response) => (error ? reject(error) : resolve(response))));
      t.same(exists, { exists: true }, 'a compressed unary request is read and rewritten');
      const committed = await new Promise<{ branch_update: { branch_created: boolean } }>((resolve, reject) => {
        const call = operations.UserCommitFiles((error, response) => (error ? reject(error) : resolve(response)));
        call.write({ header: { repository, user, branch_name: Buffer.from('main'), commit_message: Buffer.from('compressed') } });
        call.write({ action: { header: { action: 'CREATE', file_path: Buffer.from('big.txt') } } });
        call.write({ action: { content: Buffer.alloc(256 * 1024, 'z') } });
        call.end();
      });
      t.equal(committed.branch_update.branch_created, true, 'compressed later messages reach the node intact');
      const dir = path.join(node.storageDir, replicaPath(`${transport}/compressed/repo.git`));
      t.equal((await git(dir, 'cat-file', '-s', 'main:big.txt')).trim(), String(256 * 1024));
    });

    t.test('clients authenticate with the external token; nodes get the internal one', async (t) => {
      const anonymous = new Rpc(proxy.address);
      const wrong = new Rpc(proxy.address, 'not the secret');
      t.teardown(() => {
        anonymous.close();
        wrong.close();
      });
      const request = { repository: virtualRepo('unary/one.git') };
      t.equal(await statusOf(anonymous.unary('/gitaly.RepositoryService/RepositoryExists', request)), grpc.status.UNAUTHENTICATED);
      t.equal(await statusOf(wrong.unary('/gitaly.RepositoryService/RepositoryExists', request)), grpc.status.PERMISSION_DENIED, 'a wrong token is denied (upstream: PermissionDenied)');
      t.equal(await statusOf(wrong.unary('/gitaly.ServerService/ServerInfo', {})), grpc.status.PERMISSION_DENIED, 'server-scoped calls too');
      // The node refuses the client's token: success means the router swapped it.
      t.same(await rpc.unary('/gitaly.RepositoryService/RepositoryExists', request), { exists: true });
    });

    t.test('an unknown method is UNIMPLEMENTED', async (t) => {
      for (const method of ['/gitaly.RefService/NoSuchMethod', '/nope.Service/Call']) {
        const status = await rawUnaryStatus(raw, method, Buffer.alloc(0), tokenMetadata(CLIENT_TOKEN));
        t.equal(status.code, grpc.status.UNIMPLEMENTED, method);
      }
    });

    t.test('bad requests are INVALID_ARGUMENT naming the field', async (t) => {
      const { root } = gitalyProtocol();
      const ExistsRequest = root.lookupType('gitaly.RepositoryExistsRequest');
      const encode = (value: object): Buffer => Buffer.from(ExistsRequest.encode(ExistsRequest.fromObject(value)).finish());
      const exists = (bytes: Buffer) => rawUnaryStatus(raw, '/gitaly.RepositoryService/RepositoryExists', bytes, tokenMetadata(CLIENT_TOKEN));
      const literal = (relative: string) => ({ storage_name: VIRTUAL_STORAGE, relative_path: relative });
      const cases: Array<[string, Buffer, RegExp]> = [
        ['truncated varint', Buffer.from([0xff, 0xff, 0xff, 0xff]), /^gitaly\.RepositoryExistsRequest: malformed/],
        ['repository as a varint', Buffer.from([0x08, 0x01]), /^repository: wire type 0/],
        ['no repository', Buffer.alloc(0), /^repository: missing/],
        ['repository twice', Buffer.concat([encode({ repository: literal('a.git') }), encode({ repository: literal('b.git') })]), /^repository: given more than once/],
        ['empty storage', encode({ repository: { relative_path: 'a.git' } }), /^repository\.storage_name: empty/],
        ['empty path', encode({ repository: { storage_name: VIRTUAL_STORAGE } }), /^repository\.relative_path: empty/],
        ['..', encode({ repository: literal('a/../../b.git') }), /^repository\.relative_path: .*escapes/],
        ['absolute', encode({ repository: literal('/etc/passwd') }), /^repository\.relative_path: absolute/],
        ['NUL', encode({ repository: literal('a\0.git') }), /^repository\.relative_path: contains a NUL/],
        ['truncated repository', Buffer.from([0x0a, 0x05, 0x12, 0x07, 0x76]), /^gitaly\.RepositoryExistsRequest: malformed/],
      ];
      for (const [name, bytes, details] of cases) {
        const status = await exists(bytes);
        t.equal(status.code, grpc.status.INVALID_ARGUMENT, name);
        t.match(status.details, details, name);
      }
      const nested = await rawClientStreamStatus(raw, '/gitaly.OperationService/UserCommitFiles', [Buffer.alloc(0)], tokenMetadata(CLIENT_TOKEN));
      t.match(nested, { code: grpc.status.INVALID_ARGUMENT, details: /^header\.repository: missing/ }, 'nested field path');
      const none = await rawClientStreamStatus(raw, '/gitaly.OperationService/UserCommitFiles', [], tokenMetadata(CLIENT_TOKEN));
      t.match(none, { code: grpc.status.INVALID_ARGUMENT, details: /^header\.repository: missing/ }, 'no request message at all');
      t.equal(router.requests.filter((r) => r.repository?.relative_path.includes('..')).length, 0, 'the router never saw a bad path');
    });

    t.test('a routing refusal reaches the client with its status', async (t) => {
      const status = await statusOf(rpc.unary('/gitaly.RepositoryService/RepositoryExists', { repository: { storage_name: 'unknown', relative_path: 'a.git' } }));
      t.equal(status, grpc.status.NOT_FOUND);
    });

    t.test('server-scoped calls fan out to the nodes and merge', async (t) => {
      const info = await rpc.unary<{ server_version: string; git_version: string; storage_statuses: Array<{ storage_name: string; readable: boolean; writeable: boolean }> }>(
        '/gitaly.ServerService/ServerInfo',
        {},
      );
      t.equal(info.server_version, 'router-test');
      t.match(info.git_version, /^\d+\.\d+/);
      t.match(info.storage_statuses, [{ storage_name: VIRTUAL_STORAGE, readable: true, writeable: true }]);
      t.equal(info.storage_statuses.length, 1);
      const disk = await rpc.unary<{ storage_statuses: Array<{ storage_name: string; available: number }> }>('/gitaly.ServerService/DiskStatistics', {});
      t.equal(disk.storage_statuses.length, 1);
      t.equal(disk.storage_statuses[0]?.storage_name, VIRTUAL_STORAGE);
      t.ok((disk.storage_statuses[0]?.available ?? 0) > 0);
      t.same(await rpc.unary('/grpc.health.v1.Health/Check', {}), { status: 'SERVING' });
    });

    t.test('every in-flight slot is back once the calls are done', async (t) => {
      t.equal(proxy.limiter.inFlight, 0);
    });
  });
}

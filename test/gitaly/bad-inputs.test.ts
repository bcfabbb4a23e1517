// Bad requests get the documented status codes, never INTERNAL.
import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { makeV2AuthorizationHeader } from '../../src/auth/index.js';
import { startInProcessNode } from './fixtures/node.js';
import { Rpc, statusOf } from './fixtures/rpc.js';

const TOKEN = 'bad-inputs-secret';
const node = await startInProcessNode({ token: TOKEN, storages: ['default', 'second'] });
const rpc = new Rpc(node.address, TOKEN);
t.teardown(async () => {
  rpc.close();
  await node.close();
});
const existing = { storage_name: 'default', relative_path: 'ok.git' };
await rpc.unary('/gitaly.RepositoryService/CreateRepository', { repository: existing });

t.test('relative paths that leave the storage are INVALID_ARGUMENT', async (t) => {
  for (const relative of ['../escape.git', 'a/../../escape.git', '/etc/passwd', 'nul\0byte.git', '', '+gitaly/tmp/x', '.']) {
    const repository = { storage_name: 'default', relative_path: relative };
    t.equal(await statusOf(rpc.unary('/gitaly.RepositoryService/RepositoryExists', { repository })), grpc.status.INVALID_ARGUMENT, JSON.stringify(relative));
    t.equal(await statusOf(rpc.unary('/gitaly.RepositoryService/CreateRepository', { repository })), grpc.status.INVALID_ARGUMENT, `create ${JSON.stringify(relative)}`);
  }
  const streamed = rpc.serverStream('/gitaly.SmartHTTPService/InfoRefsUploadPack', { repository: { storage_name: 'default', relative_path: '../x' } });
  t.equal(await statusOf(streamed), grpc.status.INVALID_ARGUMENT, 'streaming RPCs too');
});

t.test('a missing repository is NOT_FOUND', async (t) => {
  const repository = { storage_name: 'default', relative_path: 'missing.git' };
  t.equal(await statusOf(rpc.unary('/gitaly.RefService/FindDefaultBranchName', { repository })), grpc.status.NOT_FOUND);
  t.equal(await statusOf(rpc.serverStream('/gitaly.RefService/FindAllBranchNames', { repository })), grpc.status.NOT_FOUND);
  t.equal(await statusOf(rpc.unary('/gitaly.RepositoryService/CalculateChecksum', { repository })), grpc.status.NOT_FOUND);
  t.equal(await statusOf(rpc.bidi('/gitaly.SSHService/SSHUploadPack', [{ repository }])), grpc.status.NOT_FOUND);
  t.equal(await statusOf(rpc.unary('/gitaly.RepositoryService/RemoveRepository', { repository })), grpc.status.NOT_FOUND);
});

t.test('an unknown storage or no repository at all is INVALID_ARGUMENT', async (t) => {
  t.equal(await statusOf(rpc.unary('/gitaly.RepositoryService/RepositoryExists', { repository: { storage_name: 'nope', relative_path: 'ok.git' } })), grpc.status.INVALID_ARGUMENT);
  t.equal(await statusOf(rpc.unary('/gitaly.RepositoryService/RepositoryExists', {})), grpc.status.INVALID_ARGUMENT);
  t.equal(await statusOf(rpc.clientStream('/gitaly.OperationService/UserCommitFiles', [])), grpc.status.INVALID_ARGUMENT);
  t.equal(await statusOf(rpc.unary('/gitaly.RepositoryService/FindMergeBase', { repository: existing, revisions: [Buffer.from('main')] })), grpc.status.INVALID_ARGUMENT);
  t.equal(await statusOf(rpc.serverStream('/gitaly.SmartHTTPService/InfoRefsUploadPack', { repository: existing, git_config_options: ['core.sshCommand=evil'] })), grpc.status.INVALID_ARGUMENT);
});

t.test('undecodable bytes are INVALID_ARGUMENT', async (t) => {
  const client = new grpc.Client(node.address, grpc.credentials.createInsecure());
  t.teardown(() => client.close());
  const metadata = new grpc.Metadata();
  metadata.set('authorization', makeV2AuthorizationHeader(TOKEN, Math.floor(Date.now() / 1000)));
  const send = (bytes: Buffer): Promise<unknown> =>
    new Promise((resolve, reject) => {
      client.makeUnaryRequest('/gitaly.RepositoryService/RepositoryExists', (b: Buffer) => b, (b: Buffer) => b, bytes, metadata, (e, r) => (e ? reject(e) : resolve(r)));
    });
  t.equal(await statusOf(send(Buffer.from([0xff, 0xff, 0xff, 0xff]))), grpc.status.INVALID_ARGUMENT, 'truncated varint');
  t.equal(await statusOf(send(Buffer.from([0x08, 0x01]))), grpc.status.INVALID_ARGUMENT, 'repository field sent as a varint');
});

t.test('authentication: a missing token is UNAUTHENTICATED, a wrong one PERMISSION_DENIED, as upstream; health needs none', async (t) => {
  const anonymous = new Rpc(node.address);
  const wrong = new Rpc(node.address, 'not-the-secret');
  t.teardown(() => {
    anonymous.close();
    wrong.close();
  });
  t.equal(await statusOf(anonymous.unary('/gitaly.RepositoryService/RepositoryExists', { repository: existing })), grpc.status.UNAUTHENTICATED);
  t.equal(await statusOf(wrong.serverStream('/gitaly.RefService/FindAllBranchNames', { repository: existing })), grpc.status.PERMISSION_DENIED);
  t.same(await anonymous.unary('/grpc.health.v1.Health/Check', {}), { status: 'SERVING' });
});

t.test('a storage that cannot be written turns health NOT_SERVING', async (t) => {
  // Root ignores permission bits, so the probe's folder is replaced by a file.
  const second = node.storages['second'] as string;
  const { rm, writeFile } = await import('node:fs/promises');
  await rm(path.join(second, '+gitaly'), { recursive: true, force: true });
  await writeFile(path.join(second, '+gitaly'), 'not a folder');
  t.same(await rpc.unary('/grpc.health.v1.Health/Check', {}), { status: 'NOT_SERVING' });
  const info = await rpc.unary<{ storage_statuses: Array<{ storage_name: string; writeable: boolean }> }>('/gitaly.ServerService/ServerInfo', {});
  t.same(info.storage_statuses.map((s) => [s.storage_name, s.writeable]), [['default', true], ['second', false]]);
  t.match(await rpc.unary('/gitaly.ServerService/ReadinessCheck', {}), { failure_response: { failed_checks: [{ name: 'storage second' }] } });
  await rm(path.join(second, '+gitaly'));
  await mkdir(path.join(second, '+gitaly', 'tmp'), { recursive: true });
  await chmod(second, 0o755);
  t.same(await rpc.unary('/grpc.health.v1.Health/Check', {}), { status: 'SERVING' });
});

t.test('a disk below the free-space floor is NOT_SERVING', async (t) => {
  const full = await startInProcessNode({ extra: { health: { min_free_bytes: Number.MAX_SAFE_INTEGER } } });
  const client = new Rpc(full.address);
  t.teardown(async () => {
    client.close();
    await full.close();
  });
  t.same(await client.unary('/grpc.health.v1.Health/Check', {}), { status: 'NOT_SERVING' });
});

t.test('the git concurrency bound answers RESOURCE_EXHAUSTED', async (t) => {
  const small = await startInProcessNode({ extra: { git: { max_concurrent: 1, max_queued: 0 } } });
  const client = new Rpc(small.address);
  t.teardown(async () => {
    client.close();
    await small.close();
  });
  const repository = { storage_name: 'default', relative_path: 'busy.git' };
  await client.unary('/gitaly.RepositoryService/CreateRepository', { repository });
  // An SSH upload-pack holds its git process until the client hangs up.
  const client2 = client.client('gitaly.SSHService') as unknown as Record<string, () => grpc.ClientDuplexStream<unknown, { stdout: Buffer }>>;
  const holder = (client2['SSHUploadPack'] as () => grpc.ClientDuplexStream<unknown, { stdout: Buffer }>).call(client2);
  holder.write({ repository });
  await new Promise<void>((resolve) => holder.once('data', () => resolve()));
  t.equal(await statusOf(client.unary('/gitaly.RefService/FindDefaultBranchName', { repository })), grpc.status.RESOURCE_EXHAUSTED);
  holder.end();
  for await (const _ of holder) void _;
  t.equal(await statusOf(client.unary('/gitaly.RefService/FindDefaultBranchName', { repository })), 'ok');
});

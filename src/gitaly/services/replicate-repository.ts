// ReplicateRepository: the target node pulls from the source node. git fetch
// runs here against a one-shot git:// listener whose bytes travel over the
// source's SSHUploadPack, so git negotiates and only missing objects move.
// Then HEAD follows the source's. A missing target is created atomically
// (fetched in the temporary folder, then renamed).
import type net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, UnavailableError } from '../errors.js';
import { startOneShotDaemon, type DaemonRequest } from '../git/daemon-bridge.js';
import { headTarget } from '../git/refs.js';
import { gitalyClient } from '../gitaly-client.js';
import { parseGitalyServers, type ServerAddress } from '../gitaly-servers.js';
import { GitCommandError } from '../git-runner.js';
import { isGitDirectory, type RepoLocation } from '../locator.js';
import type { NodeContext } from '../node-context.js';
import { createRepository } from '../repo-lifecycle.js';
import type { CallContext } from '../rpc-adapters.js';
import type { RepoRequest, RepositoryMsg } from '../wire-types.js';

/** Where the source lives: another node, or a storage of this one. */
type Source = { kind: 'remote'; server: ServerAddress; repository: RepositoryMsg } | { kind: 'local'; location: RepoLocation };

export async function replicateRepository(node: NodeContext, request: RepoRequest & { source: RepositoryMsg | null }, ctx: CallContext): Promise<void> {
  const target = node.locator.locate(request.repository);
  if (request.source === null) throw new InvalidArgumentError('empty source repository');
  const source = await resolveSource(node, request.source, ctx);
  const sync = (repoPath: string): Promise<void> => syncFrom(node, source, repoPath, ctx);
  if (await isGitDirectory(target.path)) {
    await node.repoLocks.run(target.path, () => sync(target.path));
    return;
  }
  await createRepository(node, target, { signal: ctx.signal }, sync).catch(async (error: unknown) => {
    // Another replication created it meanwhile: bring that one up to date.
    if (error instanceof Error && 'code' in error && error.code === 'already_exists' && (await isGitDirectory(target.path))) {
      await node.repoLocks.run(target.path, () => sync(target.path));
      return;
    }
    throw error;
  });
}

async function resolveSource(node: NodeContext, repository: RepositoryMsg, ctx: CallContext): Promise<Source> {
  const server = parseGitalyServers(ctx.metadata)[repository.storage_name];
  if (server !== undefined) {
    const exists = await unaryCall<{ exists: boolean }>(server, 'gitaly.RepositoryService', 'RepositoryExists', { repository }, ctx);
    if (!exists.exists) throw new NotFoundError(`source repository does not exist: ${repository.storage_name}/${repository.relative_path}`);
    return { kind: 'remote', server, repository };
  }
  if (node.locator.storageNames().includes(repository.storage_name)) {
    return { kind: 'local', location: await node.locator.locateExisting(repository, 'source repository') };
  }
  throw new InvalidArgumentError(`source storage "${repository.storage_name}" is neither local nor in the gitaly-servers metadata`);
}

async function syncFrom(node: NodeContext, source: Source, repoPath: string, ctx: CallContext): Promise<void> {
  if (source.kind === 'local') {
    await fetchAll(node, repoPath, source.location.path, ctx);
    const head = await headTarget(node.git, source.location.path, ctx.signal);
    if (head.length > 0) await node.git.run({ gitDir: repoPath, args: ['symbolic-ref', 'HEAD', head], signal: ctx.signal });
    return;
  }
  const daemon = await startOneShotDaemon((request, socket, initial) => bridgeUploadPack(source, request, socket, initial, ctx));
  try {
    await fetchAll(node, repoPath, daemon.url, ctx);
  } finally {
    daemon.close();
  }
  await daemon.done.catch((error: unknown) => node.log.debug({ err: error }, 'replication bridge closed with an error'));
  const head = await unaryCall<{ name: Buffer }>(source.server, 'gitaly.RefService', 'FindDefaultBranchName', { repository: source.repository, head_only: true }, ctx);
  const name = head.name.toString('utf8');
  if (name.startsWith('refs/')) await node.git.run({ gitDir: repoPath, args: ['symbolic-ref', 'HEAD', name], signal: ctx.signal });
}

// A mirror fetch: every reference, forced, and references the source no
// longer has are pruned, all in one reference transaction.
async function fetchAll(node: NodeContext, repoPath: string, url: string, ctx: CallContext): Promise<void> {
  try {
    await node.git.run({
      gitDir: repoPath,
      args: ['fetch', '--quiet', '--prune', '--force', '--atomic', '--update-head-ok', '--no-write-fetch-head', '--', url, '+refs/*:refs/*'],
      config: ['protocol.version=2', 'fetch.writeCommitGraph=false'],
      signal: ctx.signal,
    });
  } catch (error) {
    if (error instanceof GitCommandError) throw new FailedPreconditionError(`fetching from the source failed: ${error.stderr.trim().slice(0, 2000)}`);
    throw error;
  }
}

interface SshResponse {
  stdout: Buffer;
  stderr: Buffer;
  exit_status: { value: number } | null;
}

/** Connects one git:// connection to the source's SSHUploadPack. */
async function bridgeUploadPack(source: Source & { kind: 'remote' }, request: DaemonRequest, socket: net.Socket, initial: Buffer, ctx: CallContext): Promise<void> {
  if (request.service !== 'git-upload-pack') throw new Error(`unexpected git:// service ${request.service}`);
  const client = gitalyClient('gitaly.SSHService', source.server.address, { token: source.server.token });
  const abort = (): void => client.close();
  ctx.signal.addEventListener('abort', abort, { once: true });
  try {
    const open = (client as unknown as Record<string, ((options?: grpc.CallOptions) => grpc.ClientDuplexStream<unknown, SshResponse>) | undefined>)['SSHUploadPack'];
    if (open === undefined) throw new Error('the SSHService client has no SSHUploadPack');
    const call = open.call(client);
    const protocol = request.extraParameters.find((p) => p.startsWith('version=')) ?? '';
    call.write({ repository: source.repository, stdin: initial, git_protocol: protocol });
    socket.on('data', (chunk: Buffer) => {
      if (!call.write({ stdin: chunk })) socket.pause();
    });
    call.on('drain', () => socket.resume());
    socket.once('end', () => call.end());
    socket.once('error', () => call.cancel());
    socket.resume();
    await copyResponses(call, socket);
  } catch (error) {
    socket.destroy();
    throw error;
  } finally {
    ctx.signal.removeEventListener('abort', abort);
    client.close();
  }
}

/** upload-pack's stdout into the socket; a non-zero exit fails the bridge. */
async function copyResponses(call: AsyncIterable<SshResponse>, socket: net.Socket): Promise<void> {
  let stderr = '';
  for await (const message of call) {
    if (message.stdout.length > 0 && !socket.write(message.stdout)) await waitDrain(socket);
    if (message.stderr.length > 0) stderr = (stderr + message.stderr.toString('utf8')).slice(-4096);
    if (message.exit_status !== null && message.exit_status.value !== 0) {
      throw new UnavailableError(`source upload-pack exited with ${message.exit_status.value}: ${stderr.trim()}`);
    }
  }
  socket.end();
}

function waitDrain(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.once('drain', done);
    socket.once('close', done);
  });
}

// Small calls to the source (existence, HEAD) must not hang a replication.
const SOURCE_CALL_TIMEOUT_MS = 60_000;

async function unaryCall<T>(server: ServerAddress, service: string, method: string, request: unknown, ctx: CallContext): Promise<T> {
  const client = gitalyClient(service, server.address, { token: server.token });
  try {
    return await new Promise<T>((resolve, reject) => {
      const fn = (client as unknown as Record<string, (req: unknown, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: T) => void) => grpc.ClientUnaryCall>)[method];
      if (fn === undefined) throw new Error(`no method ${method} on ${service}`);
      const call = fn.call(client, request, { deadline: Date.now() + SOURCE_CALL_TIMEOUT_MS }, (error, response) => {
        ctx.signal.removeEventListener('abort', cancel);
        if (error !== null) reject(new UnavailableError(`calling ${method} on the source node: ${error.details || error.message}`, { cause: error }));
        else resolve(response);
      });
      const cancel = (): void => call.cancel();
      ctx.signal.addEventListener('abort', cancel, { once: true });
    });
  } finally {
    client.close();
  }
}

// RepositoryService: whole-repository operations.
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, lstat, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type * as grpc from '@grpc/grpc-js';
import { FailedPreconditionError, InvalidArgumentError } from '../errors.js';
import { checksumOfShowRef } from '../git/checksum.js';
import { defaultBranch, listRefs } from '../git/refs.js';
import { isZeroOid, validateReferenceName, validateRevision, ZERO_OID } from '../git/revision.js';
import { updateRefs } from '../git/update-ref.js';
import { GitCommandError } from '../git-runner.js';
import { isGitDirectory } from '../locator.js';
import type { NodeContext } from '../node-context.js';
import { createRepository, removeRepository } from '../repo-lifecycle.js';
import { clientStream, serverStream, unary, type CallContext } from '../rpc-adapters.js';
import { dataOf, firstMessage, pumpToSink } from '../streaming.js';
import type { RepoRequest, RepositoryMsg } from '../wire-types.js';
import { replicateRepository } from './replicate-repository.js';

interface CreateRepositoryRequest extends RepoRequest {
  default_branch: Buffer;
  object_format: 'OBJECT_FORMAT_UNSPECIFIED' | 'OBJECT_FORMAT_SHA1' | 'OBJECT_FORMAT_SHA256';
}

interface WriteRefRequest extends RepoRequest {
  ref: Buffer;
  revision: Buffer;
  old_revision: Buffer;
}

export function repositoryService(node: NodeContext): grpc.UntypedServiceImplementation {
  return {
    RepositoryExists: unary(async (request: RepoRequest) => {
      const location = node.locator.locate(request.repository);
      return { exists: await isGitDirectory(location.path) };
    }),

    RepositorySize: unary(async (request: RepoRequest) => {
      const location = await node.locator.locateExisting(request.repository);
      return { size: Math.floor((await diskUsageBytes(location.path)) / 1024) };
    }),

    CreateRepository: unary(async (request: CreateRepositoryRequest, ctx) => {
      const location = node.locator.locate(request.repository);
      const branch = request.default_branch.toString('utf8');
      await createRepository(node, location, {
        defaultBranch: branch.length > 0 ? branch : undefined,
        objectFormat: request.object_format === 'OBJECT_FORMAT_SHA256' ? 'sha256' : 'sha1',
        signal: ctx.signal,
      });
      return {};
    }),

    RemoveRepository: unary(async (request: RepoRequest) => {
      await removeRepository(node, node.locator.locate(request.repository));
      return {};
    }),

    WriteRef: unary(async (request: WriteRefRequest, ctx) => {
      await writeRef(node, request, ctx);
      return {};
    }),

    FindMergeBase: unary(async (request: RepoRequest & { revisions: Buffer[] }, ctx) => {
      const location = await node.locator.locateExisting(request.repository);
      if (request.revisions.length < 2) throw new InvalidArgumentError('at least 2 revisions are required');
      const revisions = request.revisions.map((r) => validateRevision(r.toString('utf8')));
      const { stdout, exitCode } = await node.git.run({
        gitDir: location.path,
        args: ['merge-base', ...revisions],
        env: location.env,
        okExitCodes: [0, 1, 128],
        signal: ctx.signal,
      });
      return { base: exitCode === 0 ? stdout.toString('latin1').trim() : '' };
    }),

    CalculateChecksum: unary(async (request: RepoRequest, ctx) => {
      const location = await node.locator.locateExisting(request.repository);
      const { stdout } = await node.git.run({
        gitDir: location.path,
        args: ['show-ref', '--head'],
        env: location.env,
        okExitCodes: [0, 1],
        signal: ctx.signal,
      });
      return { checksum: checksumOfShowRef(stdout) };
    }),

    CreateBundle: serverStream(async (request: RepoRequest, sink, ctx) => {
      const location = await node.locator.locateExisting(request.repository);
      await createBundle(node, location.path, location.env, ctx, (data) => sink.write({ data }));
    }),

    CreateRepositoryFromBundle: clientStream(async (requests: AsyncIterable<RepoRequest & { data: Buffer }>, ctx) => {
      await createFromBundle(node, requests, ctx);
      return {};
    }),

    ReplicateRepository: unary(async (request: RepoRequest & { source: RepositoryMsg | null }, ctx) => {
      await replicateRepository(node, request, ctx);
      return {};
    }),

    OptimizeRepository: unary(async (request: RepoRequest & { strategy: string }, ctx) => {
      const location = await node.locator.locateExisting(request.repository);
      await optimize(node, location.path, request.strategy === 'STRATEGY_EAGER', ctx.signal);
      return {};
    }),
  };
}

async function writeRef(node: NodeContext, request: WriteRefRequest, ctx: CallContext): Promise<void> {
  const location = await node.locator.locateExisting(request.repository);
  const ref = request.ref.toString('utf8');
  const revision = validateRevision(request.revision.toString('utf8'));
  if (ref === 'HEAD') {
    validateReferenceName(revision, 'HEAD target');
    if (!revision.startsWith('refs/')) throw new InvalidArgumentError('HEAD must point at a reference under refs/');
    await node.git.run({ gitDir: location.path, args: ['symbolic-ref', 'HEAD', revision], signal: ctx.signal });
    return;
  }
  if (!ref.startsWith('refs/')) throw new InvalidArgumentError(`invalid ref: must be HEAD or start with refs/: "${ref}"`);
  validateReferenceName(ref);
  const newOid = await resolveObject(node, location.path, revision, 'revision', ctx.signal);
  const oldText = request.old_revision.toString('utf8');
  let oldOid: string | undefined;
  if (oldText.length > 0) {
    oldOid = isZeroOid(oldText) ? ZERO_OID : await resolveObject(node, location.path, validateRevision(oldText, 'old revision'), 'old revision', ctx.signal);
  }
  await updateRefs(node.git, location.path, [{ ref, newOid, oldOid }], { env: location.env, signal: ctx.signal });
}

async function resolveObject(node: NodeContext, gitDir: string, revision: string, what: string, signal: AbortSignal): Promise<string> {
  const { stdout, exitCode } = await node.git.run({
    gitDir,
    args: ['rev-parse', '--verify', '--quiet', '--end-of-options', `${revision}^{object}`],
    okExitCodes: [0, 1, 128],
    signal,
  });
  if (exitCode !== 0) throw new InvalidArgumentError(`${what} not found: "${revision}"`);
  return stdout.toString('latin1').trim();
}

export async function createBundle(
  node: NodeContext,
  gitDir: string,
  env: Record<string, string>,
  ctx: CallContext,
  send: (chunk: Buffer) => Promise<void>,
): Promise<void> {
  const args = ['bundle', 'create', '-', '--all'];
  const proc = await node.git.spawn({ gitDir, args, env, signal: ctx.signal });
  proc.stdin.end();
  await pumpToSink(proc.stdout, node.chunkBytes, send);
  const status = await proc.wait();
  if (status.exitCode !== 0 && /empty bundle/.test(status.stderr)) throw new FailedPreconditionError('repository is empty');
  if (status.exitCode !== 0) throw new GitCommandError(args, status.exitCode, status.stderr);
}

async function createFromBundle(node: NodeContext, requests: AsyncIterable<RepoRequest & { data: Buffer }>, ctx: CallContext): Promise<void> {
  const { first, rest } = await firstMessage(requests);
  if (first === undefined) throw new InvalidArgumentError('empty request stream');
  const location = node.locator.locate(first.repository);
  const tempRoot = node.locator.tempDir(location.storageName);
  await mkdir(tempRoot, { recursive: true });
  const spool = await mkdtemp(path.join(tempRoot, 'bundle-'));
  try {
    // The bundle goes to disk, never whole into memory.
    const bundleFile = path.join(spool, 'repo.bundle');
    await pipeline(dataOf(first, rest, (m) => m.data), createWriteStream(bundleFile));
    await createRepository(node, location, { signal: ctx.signal }, async (repoPath) => {
      await node.git.run({
        gitDir: repoPath,
        args: ['fetch', '--quiet', '--atomic', '--no-write-fetch-head', bundleFile, '+refs/*:refs/*'],
        signal: ctx.signal,
      }).catch((error: unknown) => {
        if (error instanceof GitCommandError) throw new FailedPreconditionError(`invalid bundle: ${error.stderr.trim()}`);
        throw error;
      });
      await pointHeadAtBundleHead(node, repoPath, bundleFile, ctx.signal);
    });
  } finally {
    await rm(spool, { recursive: true, force: true });
  }
}

// The bundle's HEAD is an object id, not a name: pick the branch it matches,
// preferring the usual default branch names.
async function pointHeadAtBundleHead(node: NodeContext, repoPath: string, bundleFile: string, signal: AbortSignal): Promise<void> {
  const { stdout } = await node.git.run({ gitDir: repoPath, args: ['bundle', 'list-heads', bundleFile], signal });
  const heads = stdout.toString('utf8').split('\n').map((line) => line.split(' ')).filter((p) => p.length === 2);
  const headOid = heads.find(([, name]) => name === 'HEAD')?.[0];
  const branches = await listRefs(node.git, repoPath, { patterns: ['refs/heads/'], signal });
  const matching = branches.filter((b) => b.oid === headOid).map((b) => b.name);
  const preferred = ['refs/heads/main', 'refs/heads/master'].find((name) => matching.includes(name)) ?? matching[0];
  const target = preferred ?? (await defaultBranch(node.git, repoPath, signal));
  if (target.length > 0) await node.git.run({ gitDir: repoPath, args: ['symbolic-ref', 'HEAD', target], signal });
}

const LOOSE_OBJECTS_THRESHOLD = 1024;
const PACKS_THRESHOLD = 16;

async function optimize(node: NodeContext, gitDir: string, eager: boolean, signal: AbortSignal): Promise<void> {
  const needsRepack = eager || (await repackWanted(node, gitDir, signal));
  if (needsRepack) {
    await node.git.run({ gitDir, args: ['repack', '-A', '-d', '-l', '-q'], config: ['repack.writeBitmaps=true'], signal });
  }
  await node.git.run({ gitDir, args: ['pack-refs', '--all'], signal });
}

async function repackWanted(node: NodeContext, gitDir: string, signal: AbortSignal): Promise<boolean> {
  const { stdout } = await node.git.run({ gitDir, args: ['count-objects', '-v'], signal });
  const stats = Object.fromEntries(stdout.toString('utf8').split('\n').map((line) => line.split(': ')).filter((p) => p.length === 2)) as Record<string, string>;
  return Number(stats['count'] ?? 0) > LOOSE_OBJECTS_THRESHOLD || Number(stats['packs'] ?? 0) > PACKS_THRESHOLD;
}

/** Like `du`: allocated blocks of every file below the folder. */
async function diskUsageBytes(dir: string): Promise<number> {
  let total = 0;
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop() as string;
    const entries = await readdir(current, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) pending.push(full);
      const stats = await lstat(full).catch(() => undefined);
      if (stats !== undefined) total += stats.blocks * 512;
    }
  }
  return total;
}

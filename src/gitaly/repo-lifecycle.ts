// Creating and removing whole repositories. A repository appears at its
// path only complete: it is built in the storage's temporary folder and
// renamed into place, which is atomic within one filesystem.
import { randomUUID } from 'node:crypto';
import { lstat, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from './errors.js';
import { branchReference, validateReferenceName } from './git/revision.js';
import { isGitDirectory, type RepoLocation } from './locator.js';
import type { NodeContext } from './node-context.js';

export interface CreateOptions {
  /** Branch name or full reference HEAD should point at. */
  defaultBranch?: string;
  objectFormat?: 'sha1' | 'sha256';
  signal?: AbortSignal;
}

/**
 * Initializes a bare repository in a temporary folder, lets populate fill
 * it, and renames it to its final path; ALREADY_EXISTS if anything is there.
 */
export async function createRepository(
  node: NodeContext,
  location: RepoLocation,
  options: CreateOptions,
  populate: (tempRepoPath: string) => Promise<void> = async () => undefined,
): Promise<void> {
  const head = branchReference(options.defaultBranch ?? node.config.git.default_branch);
  validateReferenceName(head, 'default branch');
  await node.repoLocks.run(location.path, async () => {
    await assertAbsent(location);
    const tempRoot = node.locator.tempDir(location.storageName);
    await mkdir(tempRoot, { recursive: true });
    const temp = await mkdtemp(path.join(tempRoot, 'create-'));
    try {
      const args = ['init', '--bare', '--quiet'];
      if (options.objectFormat === 'sha256') args.push('--object-format=sha256');
      args.push(temp);
      await node.git.run({ args, signal: options.signal });
      await node.git.run({ gitDir: temp, args: ['symbolic-ref', 'HEAD', head], signal: options.signal });
      await populate(temp);
      await mkdir(path.dirname(location.path), { recursive: true });
      await assertAbsent(location);
      await rename(temp, location.path);
    } catch (error) {
      await rm(temp, { recursive: true, force: true });
      if (isErrno(error, 'ENOTEMPTY') || isErrno(error, 'EEXIST')) throw alreadyExists(location);
      throw error;
    }
  });
}

/** Moves the repository out of sight atomically, then deletes it. */
export async function removeRepository(node: NodeContext, location: RepoLocation): Promise<void> {
  await node.repoLocks.run(location.path, async () => {
    if (!(await isGitDirectory(location.path))) {
      throw new NotFoundError(`repository not found: ${location.storageName}/${location.relativePath}`);
    }
    const tempRoot = node.locator.tempDir(location.storageName);
    await mkdir(tempRoot, { recursive: true });
    const doomed = path.join(tempRoot, `${randomUUID()}-removed`);
    await rename(location.path, doomed);
    await rm(doomed, { recursive: true, force: true });
  });
}

async function assertAbsent(location: RepoLocation): Promise<void> {
  const existing = await lstat(location.path).catch((error: unknown) => {
    if (isErrno(error, 'ENOENT')) return undefined;
    if (isErrno(error, 'ENOTDIR')) throw new InvalidArgumentError(`a parent of ${location.relativePath} is a file`);
    throw error;
  });
  if (existing !== undefined) throw alreadyExists(location);
}

function alreadyExists(location: RepoLocation): AlreadyExistsError {
  return new AlreadyExistsError(`creating repository: repository exists already: ${location.storageName}/${location.relativePath}`);
}

export function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

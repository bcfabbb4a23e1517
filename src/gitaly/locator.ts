// Maps a Repository message to a folder on disk, after validating every
// client-supplied part of it.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { StorageConfig } from './config.js';
import { InvalidArgumentError, NotFoundError } from './errors.js';
import { INTERNAL_DIR, validateRelativePath } from './relative-path.js';
import type { RepositoryMsg } from './wire-types.js';

/** A validated repository location. */
export interface RepoLocation {
  storageName: string;
  storagePath: string;
  relativePath: string;
  /** Absolute path of the bare repository. */
  path: string;
  /** Extra environment for git (quarantine object directories), already validated. */
  env: Record<string, string>;
}

export class StorageLocator {
  private readonly storages: ReadonlyMap<string, string>;

  constructor(storages: readonly StorageConfig[]) {
    this.storages = new Map(storages.map((s) => [s.name, path.resolve(s.path)]));
  }

  storageNames(): string[] {
    return [...this.storages.keys()];
  }

  storagePath(name: string): string {
    if (name.length === 0) throw new InvalidArgumentError('empty StorageName');
    const found = this.storages.get(name);
    if (found === undefined) throw new InvalidArgumentError(`storage not found: "${name}"`);
    return found;
  }

  /** Where the node keeps temporary folders of a storage: same filesystem, so renames are atomic. */
  tempDir(storageName: string): string {
    return path.join(this.storagePath(storageName), INTERNAL_DIR, 'tmp');
  }

  /** Validates and resolves; does not look at the disk. */
  locate(repo: RepositoryMsg | null | undefined, what = 'repository'): RepoLocation {
    if (repo === null || repo === undefined) throw new InvalidArgumentError(`empty ${what}`);
    const storagePath = this.storagePath(repo.storage_name);
    const relativePath = validateRelativePath(repo.relative_path);
    const repoPath = path.join(storagePath, relativePath);
    return {
      storageName: repo.storage_name,
      storagePath,
      relativePath,
      path: repoPath,
      env: objectDirectoryEnv(repo, repoPath),
    };
  }

  /** Like locate, and the repository must exist: NOT_FOUND otherwise. */
  async locateExisting(repo: RepositoryMsg | null | undefined, what = 'repository'): Promise<RepoLocation> {
    const location = this.locate(repo, what);
    if (!(await isGitDirectory(location.path))) {
      throw new NotFoundError(`repository not found: ${location.storageName}/${location.relativePath}`);
    }
    return location;
  }
}

/** A bare repository has HEAD, objects/ and refs/; that is what git itself checks. */
export async function isGitDirectory(dir: string): Promise<boolean> {
  const [head, objects, refs] = await Promise.all(
    ['HEAD', 'objects', 'refs'].map((name) => stat(path.join(dir, name)).catch(() => undefined)),
  );
  return head?.isFile() === true && objects?.isDirectory() === true && refs?.isDirectory() === true;
}

// Quarantine directories are relative to the repository and must stay in it.
function objectDirectoryEnv(repo: RepositoryMsg, repoPath: string): Record<string, string> {
  const env: Record<string, string> = {};
  if (repo.git_object_directory.length > 0) {
    env['GIT_OBJECT_DIRECTORY'] = path.join(repoPath, validateRelativePath(repo.git_object_directory, 'git_object_directory'));
  }
  const alternates = repo.git_alternate_object_directories.map((dir) =>
    path.join(repoPath, validateRelativePath(dir, 'git_alternate_object_directories entry')),
  );
  if (alternates.length > 0) env['GIT_ALTERNATE_OBJECT_DIRECTORIES'] = alternates.join(path.delimiter);
  return env;
}

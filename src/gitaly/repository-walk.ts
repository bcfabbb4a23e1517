// Finds the bare git repositories under a storage folder, depth first, one
// directory handle per level: memory grows with the depth of the tree, never
// with the number of repositories. Used by InternalGitaly/WalkRepos.
import { opendir, stat } from 'node:fs/promises';
import path from 'node:path';
import { isGitDirectory } from './locator.js';
import { INTERNAL_DIR } from './relative-path.js';

/** Deeper trees are not descended: a relative path is at most 4096 bytes, and hashed replica paths are 4 levels deep. */
export const MAX_WALK_DEPTH = 64;

const NS_PER_SECOND = 1_000_000_000n;

export interface FoundRepository {
  /** Relative to the storage, with "/" separators. */
  readonly relativePath: string;
  /** The folder's mtime, to the nanosecond the filesystem keeps. */
  readonly modified: { readonly seconds: number; readonly nanos: number };
}

/**
 * Yields each repository once, as it is found. The node's own folder
 * (`+gitaly`: temporary folders, half-created repositories) is skipped, a
 * repository's inside is never searched, and symbolic links are not followed.
 */
export async function* walkRepositories(storagePath: string, signal?: AbortSignal): AsyncGenerator<FoundRepository> {
  yield* walkDirectory(storagePath, '', 0, signal);
}

async function* walkDirectory(storagePath: string, relativeDir: string, depth: number, signal: AbortSignal | undefined): AsyncGenerator<FoundRepository> {
  if (depth >= MAX_WALK_DEPTH) return;
  const dir = await opendir(path.join(storagePath, relativeDir)).catch(ignoreVanished);
  // A folder removed while we walk (a repository being deleted) is simply gone.
  if (dir === undefined) return;
  try {
    for await (const entry of dir) {
      signal?.throwIfAborted();
      if (!entry.isDirectory()) continue;
      if (depth === 0 && entry.name === INTERNAL_DIR) continue;
      const relativePath = relativeDir === '' ? entry.name : `${relativeDir}/${entry.name}`;
      const absolute = path.join(storagePath, relativePath);
      if (await isGitDirectory(absolute)) {
        const info = await stat(absolute, { bigint: true }).catch(ignoreVanished);
        if (info !== undefined) yield { relativePath, modified: { seconds: Number(info.mtimeNs / NS_PER_SECOND), nanos: Number(info.mtimeNs % NS_PER_SECOND) } };
        continue;
      }
      yield* walkDirectory(storagePath, relativePath, depth + 1, signal);
    }
  } finally {
    // for-await closes the handle when it finishes; an early return or throw from the consumer must close it too.
    await dir.close().catch(() => undefined);
  }
}

function ignoreVanished(error: unknown): undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && (error.code === 'ENOENT' || error.code === 'ENOTDIR')) return undefined;
  throw error;
}

// Finds proto/ from wherever this module runs: src/protocol/ under a test
// runner, or dist/src/protocol/ when compiled. Both sit below the folder
// holding package.json, and proto/ sits next to it.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MAX_LEVELS_UP = 8;

export function findProjectRoot(startDir: string = path.dirname(fileURLToPath(import.meta.url))): string {
  let dir = startDir;
  for (let level = 0; level <= MAX_LEVELS_UP; level++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'proto'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`no folder holding package.json and proto/ above ${startDir}`);
}

/** The folder of our Gitaly-compatible .proto files. */
export function gitalyProtoDir(projectRoot: string = findProjectRoot()): string {
  return path.join(projectRoot, 'proto', 'gitaly');
}

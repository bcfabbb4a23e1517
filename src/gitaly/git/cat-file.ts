// Reads many objects with one `git cat-file --batch` per batch of ids.
import type { GitRunner } from '../git-runner.js';

export interface GitObject {
  id: string;
  type: string;
  data: Buffer;
}

// Bounds the output one process buffers (together with the runner's byte cap).
const BATCH_SIZE = 256;

/** Objects by the given names (ids or revisions); missing ones are left out of the map. */
export async function readObjects(
  git: GitRunner,
  gitDir: string,
  names: readonly string[],
  options: { env?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<Map<string, GitObject>> {
  const found = new Map<string, GitObject>();
  for (let start = 0; start < names.length; start += BATCH_SIZE) {
    const batch = names.slice(start, start + BATCH_SIZE);
    const { stdout } = await git.run({
      gitDir,
      args: ['cat-file', '--batch'],
      stdin: batch.map((name) => `${name}\n`).join(''),
      ...options,
    });
    parseBatch(stdout, batch, found);
  }
  return found;
}

function parseBatch(output: Buffer, names: readonly string[], into: Map<string, GitObject>): void {
  let offset = 0;
  for (const name of names) {
    const nl = output.indexOf(0x0a, offset);
    if (nl < 0) break;
    const header = output.subarray(offset, nl).toString('latin1');
    offset = nl + 1;
    const [id, type, sizeText] = header.split(' ');
    if (sizeText === undefined || id === undefined || type === undefined) continue; // "<name> missing" or "ambiguous"
    const size = Number(sizeText);
    into.set(name, { id, type, data: output.subarray(offset, offset + size) });
    offset += size + 1;
  }
}

/** The type and size of an object, or undefined when it does not exist. */
export async function objectInfo(
  git: GitRunner,
  gitDir: string,
  name: string,
  options: { env?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<{ id: string; type: string; size: number } | undefined> {
  const { stdout } = await git.run({ gitDir, args: ['cat-file', '--batch-check'], stdin: `${name}\n`, ...options });
  const [id, type, sizeText] = stdout.toString('latin1').trim().split(' ');
  if (id === undefined || type === undefined || sizeText === undefined) return undefined;
  return { id, type, size: Number(sizeText) };
}

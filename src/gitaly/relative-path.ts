// Client-supplied paths must stay inside their storage: no "..", no absolute
// paths, no NUL bytes. Checked before any path reaches the filesystem or git.
import path from 'node:path';
import { InvalidArgumentError } from './errors.js';

/** The folder inside each storage that holds the node's own files. */
export const INTERNAL_DIR = '+gitaly';
const MAX_RELATIVE_PATH_BYTES = 4096;

export function validateRelativePath(relativePath: string, what = 'relative path'): string {
  if (relativePath.length === 0) throw new InvalidArgumentError(`empty ${what}`);
  if (Buffer.byteLength(relativePath) > MAX_RELATIVE_PATH_BYTES) {
    throw new InvalidArgumentError(`${what} longer than ${MAX_RELATIVE_PATH_BYTES} bytes`);
  }
  if (relativePath.includes('\0')) throw new InvalidArgumentError(`${what} contains a NUL byte`);
  if (path.isAbsolute(relativePath)) throw new InvalidArgumentError(`${what} is absolute: ${relativePath}`);
  const parts = relativePath.split('/');
  if (parts.includes('..')) throw new InvalidArgumentError(`${what} escapes its storage: ${relativePath}`);
  const normalized = path.posix.normalize(relativePath).replace(/\/+$/, '');
  if (normalized === '.' || normalized === '') throw new InvalidArgumentError(`${what} names the storage root`);
  if (normalized.split('/')[0] === INTERNAL_DIR) {
    throw new InvalidArgumentError(`${what} is inside the reserved ${INTERNAL_DIR} folder`);
  }
  return normalized;
}

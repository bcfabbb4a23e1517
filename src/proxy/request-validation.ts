// What a client may name: a storage and a path inside it. Checked before a
// route is asked for, so no router ever sees "..", an absolute path or a NUL.
import { InvalidRequestError } from './errors.js';
import type { RepositoryRef } from './route.js';

const MAX_STORAGE_NAME_BYTES = 255;
const MAX_RELATIVE_PATH_BYTES = 4096;

export function validateStorageName(name: string, field: string): string {
  if (name.length === 0) throw new InvalidRequestError(field, 'empty');
  if (Buffer.byteLength(name) > MAX_STORAGE_NAME_BYTES) throw new InvalidRequestError(field, `longer than ${MAX_STORAGE_NAME_BYTES} bytes`);
  if (name.includes('\0')) throw new InvalidRequestError(field, 'contains a NUL byte');
  return name;
}

export function validateRelativePath(relativePath: string, field: string): string {
  if (relativePath.length === 0) throw new InvalidRequestError(field, 'empty');
  if (Buffer.byteLength(relativePath) > MAX_RELATIVE_PATH_BYTES) {
    throw new InvalidRequestError(field, `longer than ${MAX_RELATIVE_PATH_BYTES} bytes`);
  }
  if (relativePath.includes('\0')) throw new InvalidRequestError(field, 'contains a NUL byte');
  if (relativePath.startsWith('/')) throw new InvalidRequestError(field, `absolute path "${relativePath}"`);
  if (relativePath.split('/').includes('..')) throw new InvalidRequestError(field, `"${relativePath}" escapes its storage ("..")`);
  return relativePath;
}

/** `field` is the repository's name in the request, e.g. "repository" or "header.repository". */
export function validateRepository(repository: RepositoryRef, field: string): RepositoryRef {
  validateStorageName(repository.storage_name, `${field}.storage_name`);
  validateRelativePath(repository.relative_path, `${field}.relative_path`);
  return repository;
}

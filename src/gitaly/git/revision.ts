// Checks on client-supplied revisions and reference names before they reach
// git's command line, where a leading "-" would be read as an option.
import { InvalidArgumentError } from '../errors.js';

export const ZERO_OID = '0000000000000000000000000000000000000000';
const OID_PATTERN = /^([0-9a-f]{40}|[0-9a-f]{64})$/;

export function isObjectId(value: string): boolean {
  return OID_PATTERN.test(value);
}

export function isZeroOid(value: string): boolean {
  return value.length > 0 && /^0+$/.test(value);
}

export function validateRevision(revision: string, what = 'revision'): string {
  if (revision.length === 0) throw new InvalidArgumentError(`empty ${what}`);
  if (revision.startsWith('-')) throw new InvalidArgumentError(`${what} can't start with '-'`);
  if (/[\0\n\r]/.test(revision)) throw new InvalidArgumentError(`${what} can't contain NUL or newline`);
  if (/\s/.test(revision)) throw new InvalidArgumentError(`${what} can't contain whitespace`);
  return revision;
}

export function validateObjectId(value: string, what = 'object id'): string {
  if (!isObjectId(value)) throw new InvalidArgumentError(`invalid ${what}: "${value}"`);
  return value;
}

/** Git's rules for reference names (git-check-ref-format), checked without a process. */
export function validateReferenceName(name: string, what = 'reference'): string {
  if (!isValidReferenceName(name)) throw new InvalidArgumentError(`invalid ${what} name: "${name}"`);
  return name;
}

export function isValidReferenceName(name: string): boolean {
  if (name.length === 0 || name.length > 4096) return false;
  if (name.startsWith('-') || name.startsWith('/') || name.endsWith('/') || name.endsWith('.')) return false;
  if (name.includes('..') || name.includes('//') || name.includes('@{') || name === '@') return false;
  // Control characters, space and ~ ^ : ? * [ \ are never allowed.
  if ([...name].some((c) => c.charCodeAt(0) <= 0x20 || c.charCodeAt(0) === 0x7f || '~^:?*[\\'.includes(c))) return false;
  return name.split('/').every((part) => part.length > 0 && !part.startsWith('.') && !part.endsWith('.lock'));
}

/** "main" or "refs/heads/main" as the fully qualified branch reference. */
export function branchReference(name: string): string {
  return name.startsWith('refs/heads/') ? name : `refs/heads/${name}`;
}

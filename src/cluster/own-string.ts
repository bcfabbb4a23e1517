/**
 * A flat copy of a string that will live in the state for good. Strings
 * msgpackr decodes can be slices of one string holding the whole command, so
 * keeping the slice keeps the whole command: about 130 bytes more per
 * repository, 130 MB at a million.
 */
export function ownString(value: string): string {
  return Buffer.from(value, 'utf8').toString('utf8');
}

// "did you mean ...?" for an unknown key: the known key of the same table
// that is a likely typo (edit distance ≤ 2, ≤ 1 for short keys) or shares its first three words
// (parallel_storage_processing_concurrency → parallel_storage_processing_workers).
import { z } from 'zod';
import type { KeyPath } from './key-path.js';

const MAX_TYPO_DISTANCE = 2;
/** One edit per this many characters, so "pool" is not taken for "port". */
const CHARS_PER_EDIT = 4;
const SHARED_WORDS = 3;

/** The keys the table at `path` accepts, or none when the path leads nowhere. */
export function knownKeysAt(schema: z.ZodType, path: KeyPath): string[] {
  let node: z.ZodType | undefined = unwrap(schema);
  for (const part of path) {
    if (node instanceof z.ZodArray && typeof part === 'number') node = unwrap(node.element as z.ZodType);
    else if (node instanceof z.ZodObject && typeof part === 'string') node = childOf(node, part);
    else return [];
  }
  return node instanceof z.ZodObject ? Object.keys(node.shape) : [];
}

function childOf(table: z.ZodObject, key: string): z.ZodType | undefined {
  const child = (table.shape as Record<string, z.ZodType | undefined>)[key];
  return child === undefined ? undefined : unwrap(child);
}

function unwrap(schema: z.ZodType): z.ZodType {
  let node = schema;
  while (node instanceof z.ZodOptional || node instanceof z.ZodDefault || node instanceof z.ZodPrefault) {
    node = node.unwrap() as z.ZodType;
  }
  return node;
}

export function suggestKey(unknown: string, known: readonly string[]): string | undefined {
  const lower = unknown.toLowerCase();
  const maxDistance = Math.min(MAX_TYPO_DISTANCE, Math.floor(lower.length / CHARS_PER_EDIT));
  const typo = known
    .map((key) => ({ key, distance: editDistance(lower, key) }))
    .filter((c) => c.distance <= maxDistance)
    .sort((a, b) => a.distance - b.distance)[0];
  if (typo !== undefined) return typo.key;
  const prefix = lower.split('_').slice(0, SHARED_WORDS).join('_');
  if (prefix.split('_').length < SHARED_WORDS) return undefined;
  return known.find((key) => key.startsWith(`${prefix}_`) || key === prefix);
}

// Levenshtein with one row; names are short, so O(n·m) is nothing.
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (row[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      next.push(Math.min((row[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1, substitution));
    }
    row = next;
  }
  return row[b.length] ?? 0;
}

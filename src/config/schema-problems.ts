// zod's issues as ConfigProblems: one per bad key, unknown keys one by one,
// and "required" instead of "received undefined".
import type { z } from 'zod';
import type { ConfigProblem } from './errors.js';
import { knownKeysAt, suggestKey } from './key-suggestion.js';
import { formatKeyPath } from './key-path.js';

export function schemaProblems(schema: z.ZodType, issues: readonly z.core.$ZodIssue[]): ConfigProblem[] {
  return issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: formatKeyPath([...issue.path, key]), message: unknownKeyMessage(schema, issue.path, key) }))
      : [{ path: formatKeyPath(issue.path), message: issue.message }],
  );
}

function unknownKeyMessage(schema: z.ZodType, tablePath: readonly PropertyKey[], key: string): string {
  const suggestion = suggestKey(key, knownKeysAt(schema, tablePath));
  return suggestion === undefined ? 'unknown key' : `unknown key (did you mean ${suggestion}?)`;
}

/**
 * Per-parse message overrides. zod's own messages name types, not values;
 * this keeps it that way for a missing key too.
 */
export function schemaMessage(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === 'invalid_type' && issue.input === undefined) return `required (${issue.expected})`;
  return undefined;
}

import type { KeyVerdict, LinearizabilityResult } from './linearizability.js';
import type { Operation } from './operations.js';

/** How many operations of a linearized prefix the text shows: the last ones, next to the failure. */
const PREFIX_TAIL = 8;

/**
 * A human-readable account of a linearizability result: one line per key
 * that is not ok, and for an illegal key the end of the longest linearized
 * prefix, the state after it, the operation that could not follow, and the
 * operations that were open with it.
 */
export function formatLinearizabilityReport(result: LinearizabilityResult): string {
  const okKeys = result.keys.filter((k) => k.verdict === 'ok').length;
  const lines = [`linearizability: ${result.verdict} (${okKeys}/${result.keys.length} keys ok)`];
  for (const key of result.keys) if (key.verdict !== 'ok') lines.push(...keyLines(key));
  return `${lines.join('\n')}\n`;
}

/** One operation as `p3 write 5 -> ok [12..15]`: process, f, invocation value, outcome and its value, history indexes. */
export function formatOperation(operation: Operation): string {
  const input = operation.invoke.value === null ? '' : ` ${JSON.stringify(operation.invoke.value)}`;
  const result = operation.outcome === 'ok' && operation.completion!.value !== operation.invoke.value ? ` ${JSON.stringify(operation.completion!.value)}` : '';
  const span = `[${operation.invoke.index}..${operation.completion?.index ?? ''}]`;
  return `p${String(operation.process)} ${operation.f}${input} -> ${operation.outcome}${result} ${span}`;
}

function keyLines(key: KeyVerdict): string[] {
  const head = `key ${JSON.stringify(key.key ?? null)}: ${key.verdict}${key.unknownReason === undefined ? '' : ` (${key.unknownReason})`}, ${key.operations} ops, ${key.states} states, ${key.elapsedMs.toFixed(0)} ms`;
  const explanation = key.explanation;
  if (explanation === undefined) return [head];
  const prefix = explanation.linearizedPrefix;
  const shown = prefix.slice(-PREFIX_TAIL);
  return [
    head,
    `  linearized ${prefix.length} ops${prefix.length > shown.length ? `, the last ${shown.length}` : ''}:`,
    ...shown.map((o) => `    ${formatOperation(o)}`),
    `  state then: ${JSON.stringify(explanation.stateAfterPrefix)}`,
    `  cannot linearize: ${formatOperation(explanation.stuck)}`,
    ...explanation.candidates.map((o) => `    open with it: ${formatOperation(o)}`),
  ];
}

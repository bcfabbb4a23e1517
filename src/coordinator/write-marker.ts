// The identity of a forwarded write, for outside checkers (issue 6's
// split-brain check): the marker each node gets, and the router's log field.
import { encodeWriteMarker, WRITE_MARKER_METADATA_KEY } from '../gitaly/index.js';
import type { RouteContext } from './route-context.js';
import type { WriteTarget } from './write-finish.js';

/**
 * Tells each node which write it takes part in (src/gitaly/write-marker.ts):
 * nodes that keep a write log record it, and the router logs the ids of the
 * writes it acknowledged, so a checker can find two primaries of one
 * generation among the writes the cluster took.
 */
export function writeMarker(ctx: RouteContext, target: WriteTarget, intentId: string | null, primary: boolean): Record<string, string> {
  const marker = { repositoryId: target.repository.repositoryId, generation: target.generation, primary, router: ctx.routerName, ...(intentId === null ? {} : { write: intentId }) };
  return { [WRITE_MARKER_METADATA_KEY]: encodeWriteMarker(marker) };
}

export function writeLogFields(intentId: string | null): { logFields?: Record<string, string> } {
  return intentId === null ? {} : { logFields: { write_intent: intentId } };
}


// The router's failpoints (see src/failpoints): PRAEFECT_FAILPOINTS="before-bump=kill"
// kills the router between a primary's commit and the generation bump.
import { crashNow, parseFailpoints } from '../failpoints/index.js';

export const FAILPOINTS_ENV = 'PRAEFECT_FAILPOINTS';
const KNOWN = { 'before-bump': ['kill'] } as const;

export type FailpointAction = 'kill';

export function parseRouterFailpoints(value: string | undefined): ReadonlyMap<string, FailpointAction> {
  return parseFailpoints<FailpointAction>(FAILPOINTS_ENV, value, KNOWN);
}

/** The hook the coordinator calls at each failpoint; undefined when none is set. */
export function failpointHook(points: ReadonlyMap<string, FailpointAction>): ((name: string) => void) | undefined {
  if (points.size === 0) return undefined;
  return (name) => {
    if (points.get(name) === 'kill') crashNow();
  };
}

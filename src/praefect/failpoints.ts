// Failpoints, in the manner of etcd's gofail: named places in the router where
// a test makes the process fail on purpose, to show what a crash exactly there
// leaves behind. Off unless PRAEFECT_FAILPOINTS names them, e.g.
// PRAEFECT_FAILPOINTS="before-bump=kill". Nothing else reads this variable.

export type FailpointAction = 'kill';

export const FAILPOINTS_ENV = 'PRAEFECT_FAILPOINTS';
const KNOWN = new Set(['before-bump']);

export class FailpointError extends Error {
  readonly code = 'PRAEFECT_BAD_FAILPOINT';
}

/** Parses "name=action,name=action"; an unknown name or action is refused at startup. */
export function parseFailpoints(value: string | undefined): ReadonlyMap<string, FailpointAction> {
  const points = new Map<string, FailpointAction>();
  for (const item of (value ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const [name = '', action = ''] = item.split('=');
    if (!KNOWN.has(name)) throw new FailpointError(`${FAILPOINTS_ENV}: unknown failpoint "${name}" (known: ${[...KNOWN].join(', ')})`);
    if (action !== 'kill') throw new FailpointError(`${FAILPOINTS_ENV}: unknown action "${action}" for ${name} (known: kill)`);
    points.set(name, action);
  }
  return points;
}

/** The hook the coordinator calls at each failpoint; undefined when none is set. */
export function failpointHook(points: ReadonlyMap<string, FailpointAction>): ((name: string) => void) | undefined {
  if (points.size === 0) return undefined;
  return (name) => {
    if (points.get(name) === 'kill') process.kill(process.pid, 'SIGKILL');
  };
}

// Failpoints, in the manner of etcd's gofail: named places in a process where
// a test makes it fail on purpose, to show what a fault exactly there leaves
// behind. Off unless an environment variable names them, as
// "name=action,name=action"; each process declares its own names and actions.

export class FailpointError extends Error {
  readonly code = 'BAD_FAILPOINT';
}

/** Parses the variable's value; an unknown name or action is refused (at startup) with the variable named. */
export function parseFailpoints<A extends string>(
  variable: string,
  value: string | undefined,
  known: Readonly<Record<string, readonly A[]>>,
): ReadonlyMap<string, A> {
  const points = new Map<string, A>();
  for (const item of (value ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const [name = '', action = ''] = item.split('=');
    const actions = Object.hasOwn(known, name) ? known[name] : undefined;
    if (actions === undefined) throw new FailpointError(`${variable}: unknown failpoint "${name}" (known: ${Object.keys(known).join(', ')})`);
    const chosen = actions.find((a) => a === action);
    if (chosen === undefined) throw new FailpointError(`${variable}: unknown action "${action}" for ${name} (known: ${actions.join(', ')})`);
    points.set(name, chosen);
  }
  return points;
}

/** Ends the process the hard way, as a crash would: no cleanup, no flush. */
export function crashNow(): never {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable: SIGKILL was sent to this process');
}

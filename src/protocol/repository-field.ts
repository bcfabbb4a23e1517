// Reading and replacing the repository a registry FieldPath points at, in a
// decoded request object.

export function getAtPath(message: unknown, names: readonly string[]): unknown {
  let current: unknown = message;
  for (const name of names) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[name];
  }
  return current ?? undefined;
}

/** Sets the value at the path, creating intermediate objects as needed. */
export function setAtPath(message: Record<string, unknown>, names: readonly string[], value: unknown): void {
  let current: Record<string, unknown> = message;
  names.forEach((name, index) => {
    if (index === names.length - 1) {
      current[name] = value;
      return;
    }
    const next = current[name];
    if (next === null || typeof next !== 'object') current[name] = {};
    current = current[name] as Record<string, unknown>;
  });
}

/**
 * JSON with object keys sorted at every level, so two values that are
 * JSON-equal (`{a,b}` and `{b,a}`) have the same text. Models compare and
 * hash states through it.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    const fields = Object.keys(record)
      .filter((k) => record[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`);
    return `{${fields.join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** A 32-bit FNV-1a hash of a string's UTF-16 code units. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}

/** Mixes a 32-bit value into a running hash. */
export function mixHash(hash: number, value: number): number {
  return Math.imul(hash ^ value, 0x01000193) | 0;
}

/**
 * `fn` memoized per object: the checker hands a model the same input and
 * output objects at every step of the search, so their canonical JSON is
 * computed once per operation instead of once per step.
 */
export function memoByObject<K extends object, V>(fn: (key: K) => V): (key: K) => V {
  const memo = new WeakMap<K, V>();
  return (key) => {
    let value = memo.get(key);
    if (value === undefined) {
      value = fn(key);
      memo.set(key, value);
    }
    return value;
  };
}

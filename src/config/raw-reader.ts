// Lenient reads of the parsed but unvalidated document, for the checks that
// span fields. Each returns undefined for anything of the wrong shape: the
// schema reports that, and a cross-check must never throw on it.

export type RawTable = Readonly<Record<string, unknown>>;

export function isTable(value: unknown): value is RawTable {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

export function tableAt(raw: unknown, key: string): RawTable | undefined {
  if (!isTable(raw)) return undefined;
  const value = raw[key];
  return isTable(value) ? value : undefined;
}

export function tablesAt(raw: unknown, key: string): Array<RawTable | undefined> {
  if (!isTable(raw)) return [];
  const value = raw[key];
  return Array.isArray(value) ? value.map((entry: unknown) => (isTable(entry) ? entry : undefined)) : [];
}

export function stringAt(raw: RawTable | undefined, key: string): string | undefined {
  const value = raw?.[key];
  return typeof value === 'string' ? value : undefined;
}

export function integerAt(raw: RawTable | undefined, key: string): number | undefined {
  const value = raw?.[key];
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
}

export function has(raw: RawTable | undefined, key: string): boolean {
  return raw !== undefined && raw[key] !== undefined;
}

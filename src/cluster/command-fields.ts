import { CommandDecodeError } from './errors.js';

/** Bounds that keep one command (and the state it creates) small. */
export const LIMITS = {
  nameChars: 255,
  pathChars: 4096,
  intentIdChars: 128,
  storagesPerList: 64,
  reportsPerUpdate: 4096,
} as const;

// A ".." path segment, tested without splitting: creation commands arrive by the million.
const DOT_DOT_SEGMENT = /(?:^|\/)\.\.(?:\/|$)/;

/**
 * Reads the fields of one decoded command, naming each field in its error as
 * `<command type>.<field>[<index>]`, so a bad proposal says exactly what is wrong.
 */
export class FieldReader {
  constructor(
    private readonly record: Readonly<Record<string, unknown>>,
    private readonly prefix: string,
  ) {}

  fail(field: string, detail: string): never {
    throw new CommandDecodeError(`${this.prefix}.${field}`, detail);
  }

  /** A non-empty name without NUL, as storages, routers and virtual storages are. */
  name(field: string): string {
    return checkName(this.record[field], `${this.prefix}.${field}`);
  }

  nullableName(field: string): string | null {
    return this.record[field] === null ? null : this.name(field);
  }

  names(field: string, options: { minLength?: number } = {}): string[] {
    const list = this.list(field, LIMITS.storagesPerList);
    const names = list.map((item, i) => checkName(item, `${this.prefix}.${field}[${i}]`));
    const duplicate = names.find((name, i) => names.indexOf(name) !== i);
    if (duplicate !== undefined) this.fail(field, `lists ${JSON.stringify(duplicate)} twice`);
    if (names.length < (options.minLength ?? 0)) this.fail(field, `needs at least ${options.minLength} entries`);
    return names;
  }

  list(field: string, maxLength: number): unknown[] {
    const value = this.record[field];
    if (!Array.isArray(value)) this.fail(field, `expected an array, got ${describe(value)}`);
    if (value.length > maxLength) this.fail(field, `has ${value.length} entries, at most ${maxLength} allowed`);
    return value;
  }

  /** A repository path: relative, no `..` segment, no NUL (DESIGN §11). */
  path(field: string): string {
    const value = this.record[field];
    if (typeof value !== 'string' || value.length === 0) this.fail(field, `expected a non-empty string, got ${describe(value)}`);
    if (value.length > LIMITS.pathChars) this.fail(field, `is ${value.length} characters, at most ${LIMITS.pathChars} allowed`);
    if (value.includes('\0')) this.fail(field, 'contains a NUL byte');
    if (value.startsWith('/')) this.fail(field, 'is absolute');
    if (DOT_DOT_SEGMENT.test(value)) this.fail(field, 'has a ".." segment');
    return value;
  }

  text(field: string, maxChars: number): string {
    const value = this.record[field];
    if (typeof value !== 'string' || value.length === 0) this.fail(field, `expected a non-empty string, got ${describe(value)}`);
    if (value.length > maxChars) this.fail(field, `is ${value.length} characters, at most ${maxChars} allowed`);
    return value;
  }

  nullableText(field: string, maxChars: number): string | null {
    return this.record[field] === null ? null : this.text(field, maxChars);
  }

  integer(field: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const value = this.record[field];
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) this.fail(field, `expected an integer, got ${describe(value)}`);
    if (value < min || value > max) this.fail(field, `is ${value}, expected ${min} to ${max}`);
    return value;
  }

  nullableInteger(field: string, min: number): number | null {
    return this.record[field] === null ? null : this.integer(field, min);
  }

  boolean(field: string): boolean {
    const value = this.record[field];
    if (typeof value !== 'boolean') this.fail(field, `expected a boolean, got ${describe(value)}`);
    return value;
  }

  /** A nested record, read with the same naming. */
  nested(value: unknown, field: string): FieldReader {
    if (!isRecord(value)) this.fail(field, `expected a map, got ${describe(value)}`);
    return new FieldReader(value, `${this.prefix}.${field}`);
  }
}

function checkName(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new CommandDecodeError(field, `expected a non-empty string, got ${describe(value)}`);
  if (value.length > LIMITS.nameChars) throw new CommandDecodeError(field, `is ${value.length} characters, at most ${LIMITS.nameChars} allowed`);
  if (value.includes('\0')) throw new CommandDecodeError(field, 'contains a NUL byte');
  return value;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return 'bytes';
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'number') return `the number ${value}`;
  return typeof value;
}

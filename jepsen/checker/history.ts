import { readFile, writeFile } from 'node:fs/promises';
import { HistoryFormatError } from './errors.js';

/** What happened to an operation: Jepsen's four op types. */
export type OpType = 'invoke' | 'ok' | 'fail' | 'info';

/** Client processes are numbers; the fault injector is the string `'nemesis'`, as in Jepsen. */
export type Process = number | string;

/** Operations on different keys are independent: the linearizability checker splits by key. */
export type Key = string | number;

/**
 * One event of a history, as Jepsen records it. An invocation (`invoke`) is
 * followed on the same process by its completion: `ok` (it happened), `fail`
 * (it definitely did not happen) or `info` (unknown: it may or may not have
 * happened, at any time after the invocation). `time` is a monotonic clock in
 * one unit the harness chooses (ns or ms); `index` is the op's position, and
 * real-time order is history order.
 */
export interface Op {
  process: Process;
  type: OpType;
  f: string;
  key?: Key;
  value: unknown;
  time: number;
  index: number;
  /** Why a fail or info completion failed, as the client saw it. */
  error?: unknown;
  /** Which node the client talked to. */
  node?: string;
  /** An ok read the router marked stale (served without quorum): it promises no recency and is not checked for linearizability. */
  stale?: true;
}

const OP_TYPES: ReadonlySet<string> = new Set(['invoke', 'ok', 'fail', 'info']);
const KNOWN_FIELDS: ReadonlySet<string> = new Set(['process', 'type', 'f', 'key', 'value', 'time', 'index', 'error', 'node', 'stale']);

/**
 * Reads a `history.jsonl` (one JSON op per line; blank lines are skipped).
 * Throws HistoryFormatError naming the file, line and field of the first bad line.
 */
export async function readHistory(path: string): Promise<Op[]> {
  return parseHistory(await readFile(path, 'utf8'), path);
}

/** Writes ops as `history.jsonl`, one JSON op per line. */
export async function writeHistory(path: string, ops: readonly Op[]): Promise<void> {
  await writeFile(path, formatHistory(ops), 'utf8');
}

/** The `history.jsonl` text of ops. */
export function formatHistory(ops: readonly Op[]): string {
  return ops.map(formatOp).join('');
}

/** One op as a `history.jsonl` line, newline included, for writers that stream. */
export function formatOp(op: Op): string {
  return `${JSON.stringify(op)}\n`;
}

/**
 * Parses `history.jsonl` text. Indexes must be strictly increasing, so the
 * file order is the real-time order the checkers rely on.
 */
export function parseHistory(text: string, source = 'history.jsonl'): Op[] {
  const ops: Op[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw.trim() === '') continue;
    const op = parseOpLine(raw, source, i + 1);
    const previous = ops[ops.length - 1];
    if (previous !== undefined && op.index <= previous.index) {
      throw new HistoryFormatError(source, i + 1, 'index', `${op.index} does not follow the previous op's index ${previous.index}`);
    }
    ops.push(op);
  }
  return ops;
}

/** Parses one line of `history.jsonl`; `line` is 1-based and only used in errors. */
export function parseOpLine(raw: string, source: string, line: number): Op {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new HistoryFormatError(source, line, '(json)', (error as Error).message);
  }
  return validateOp(parsed, source, line);
}

/** Checks that a parsed JSON value is an Op; errors name the field. */
export function validateOp(value: unknown, source: string, line: number): Op {
  const bad = (field: string, detail: string): HistoryFormatError => new HistoryFormatError(source, line, field, detail);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('(line)', 'not a JSON object');
  const record = value as Record<string, unknown>;
  for (const field of Object.keys(record)) {
    if (!KNOWN_FIELDS.has(field)) throw bad(field, 'unknown field');
  }
  const { process, type, f, key, time, index, error, node, stale } = record;
  if (!(typeof process === 'string' || Number.isSafeInteger(process))) throw bad('process', `expected an integer or a string, got ${describe(process)}`);
  if (typeof type !== 'string' || !OP_TYPES.has(type)) throw bad('type', `expected invoke, ok, fail or info, got ${describe(type)}`);
  if (typeof f !== 'string' || f === '') throw bad('f', `expected a non-empty string, got ${describe(f)}`);
  if (key !== undefined && typeof key !== 'string' && !(typeof key === 'number' && Number.isFinite(key))) throw bad('key', `expected a string or a number, got ${describe(key)}`);
  if (typeof time !== 'number' || !Number.isFinite(time) || time < 0) throw bad('time', `expected a finite number >= 0, got ${describe(time)}`);
  if (!Number.isSafeInteger(index) || (index as number) < 0) throw bad('index', `expected an integer >= 0, got ${describe(index)}`);
  if (node !== undefined && typeof node !== 'string') throw bad('node', `expected a string, got ${describe(node)}`);
  if (stale !== undefined && stale !== true) throw bad('stale', `expected true or nothing, got ${describe(stale)}`);
  const op: Op = { process: process as Process, type: type as OpType, f, value: record.value ?? null, time, index: index as number };
  if (key !== undefined) op.key = key as Key;
  if (error !== undefined) op.error = error;
  if (node !== undefined) op.node = node;
  if (stale === true) op.stale = true;
  return op;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing (field missing)';
  const json = JSON.stringify(value);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

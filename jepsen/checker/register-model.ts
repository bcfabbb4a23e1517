import { canonicalJson, hashString, memoByObject } from './canonical-json.js';
import { ModelOperationError } from './errors.js';
import type { Model, OpInput, OpOutcome, StepResult } from './model.js';

/**
 * A register's state: the canonical JSON of its value, or ANY_VALUE after a
 * write whose value nobody knows (an unknown-outcome failover, say): the next
 * read may see anything and then pins it down.
 */
export type RegisterState = string;

/** Not a canonical JSON text, so it cannot collide with a value. */
const ANY_VALUE: RegisterState = '\u0000any';

export interface RegisterOptions {
  /** The value before any write; default null. */
  initial?: unknown;
  /** Ops that read the value; default ['read']. */
  readFs?: readonly string[];
  /** Ops that set the value; default ['write']. */
  writeFs?: readonly string[];
  /** Compare-and-set ops, value [expected, new]; default ['cas']. */
  casFs?: readonly string[];
  /** The model's name in explanations and errors. */
  name?: string;
}

/**
 * A register over JSON values compared by JSON equality (object key order
 * does not matter). A write sets the invocation's value; when that is null
 * the system chose the value and the ok completion carries it (a failover
 * reports the new primary). A cas `[expected, new]` happens only when the
 * value equals `expected`; a cas that did not match is a `fail`.
 */
export function jsonRegister(options: RegisterOptions = {}): Model<RegisterState> {
  const name = options.name ?? 'register';
  const readFs = new Set(options.readFs ?? ['read']);
  const writeFs = new Set(options.writeFs ?? ['write']);
  const casFs = new Set(options.casFs ?? ['cas']);
  const initial = canonicalJson(options.initial ?? null);
  const seenJson = memoByObject((output: { value: unknown }) => canonicalJson(output.value));
  const writtenJson = memoByObject((input: OpInput) => canonicalJson(input.value));
  const casJson = memoByObject((input: OpInput) => casPair(name, input));
  return {
    name,
    init: () => initial,
    step(state, input, output) {
      if (readFs.has(input.f)) return read(state, output.type === 'ok' ? seenJson(output) : undefined);
      if (writeFs.has(input.f)) return { ok: true, state: written(input, output, writtenJson, seenJson) };
      if (casFs.has(input.f)) return compareAndSet(state, casJson(input));
      throw new ModelOperationError(name, input.f, `unknown operation (reads ${[...readFs].join('/')}, writes ${[...writeFs].join('/')}, cas ${[...casFs].join('/')})`);
    },
    equal: (a, b) => a === b,
    hash: hashString,
    isReadOnly: (input) => readFs.has(input.f),
    // A write of v that nobody read or compared against can be dropped: any
    // op between it and the next write would have had to see v.
    effectId(input) {
      if (writeFs.has(input.f)) return input.value === null || input.value === undefined ? undefined : writtenJson(input);
      if (casFs.has(input.f)) return casJson(input)[1];
      return undefined;
    },
    observedIds(input, output) {
      if (readFs.has(input.f)) return output.type === 'ok' ? [seenJson(output)] : [];
      if (casFs.has(input.f)) return [casJson(input)[0]];
      return [];
    },
    describe: (state) => (state === ANY_VALUE ? '(any value)' : JSON.parse(state)),
  };
}

/** The plain register of the classic tests: read, write, cas. */
export function register(options: Omit<RegisterOptions, 'readFs' | 'writeFs' | 'casFs'> = {}): Model<RegisterState> {
  return jsonRegister({ ...options, name: options.name ?? 'register' });
}

/**
 * The cluster state of one repository as a register: reads return
 * `{primary, generation}`; `write` and `failover` set it (a failover's new
 * value is its ok completion's value when the invocation did not name it).
 */
export function clusterStateRegister(options: Omit<RegisterOptions, 'readFs' | 'writeFs'> = {}): Model<RegisterState> {
  return jsonRegister({ ...options, name: options.name ?? 'cluster-state-register', readFs: ['read'], writeFs: ['write', 'failover'] });
}

/** `seen` is the canonical JSON a read returned; undefined when its outcome is unknown. */
function read(state: RegisterState, seen: string | undefined): StepResult<RegisterState> {
  if (seen === undefined) return { ok: true, state };
  if (state === ANY_VALUE) return { ok: true, state: seen };
  return seen === state ? { ok: true, state } : { ok: false };
}

function written(input: OpInput, output: OpOutcome, writtenJson: (input: OpInput) => string, seenJson: (output: { value: unknown }) => string): RegisterState {
  if (input.value !== null && input.value !== undefined) return writtenJson(input);
  if (output.type === 'ok') return seenJson(output);
  return ANY_VALUE;
}

/** A cas value as canonical [expected, new]. */
function casPair(name: string, input: OpInput): readonly [string, string] {
  const pair = input.value;
  if (!Array.isArray(pair) || pair.length !== 2) throw new ModelOperationError(name, input.f, 'cas value must be [expected, new]');
  return [canonicalJson(pair[0]), canonicalJson(pair[1])];
}

function compareAndSet(state: RegisterState, [expected, next]: readonly [string, string]): StepResult<RegisterState> {
  if (state !== ANY_VALUE && state !== expected) return { ok: false };
  return { ok: true, state: next };
}

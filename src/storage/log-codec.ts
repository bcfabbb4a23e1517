import { Packr } from 'msgpackr';
import { invariant } from '../raft/core/errors.js';
import type { Entry, EntryType, HardState, NodeId, Snapshot } from '../raft/core/types.js';
import type { LogBase } from './log-mirror.js';

// LevelDB layout of a log store. Entry keys sort by index because the index is
// fixed-width big-endian hex; metadata lives under m/, apart from the e/ range.
export const HARD_STATE_KEY = 'm/hard-state';
export const SNAPSHOT_KEY = 'm/snapshot';
export const BASE_KEY = 'm/base';
export const ENTRY_RANGE = { gte: 'e/', lt: 'e0' } as const;

export function entryKey(index: number): string {
  return `e/${index.toString(16).padStart(16, '0')}`;
}

// Records off: every value must decode on its own, without shared structures.
const packr = new Packr({ useRecords: false });

export function encodeEntry(entry: Entry): Uint8Array {
  return packr.pack([entry.index, entry.term, entry.type, entry.data]);
}

export function decodeEntry(bytes: Uint8Array): Entry {
  const [index, term, type, data] = unpackTuple(bytes, 4, 'entry');
  invariant(type === 'normal' || type === 'confChange', () => `stored entry ${String(index)} has type ${String(type)}`);
  return { index: asCount(index, 'entry index'), term: asCount(term, 'entry term'), type: type as EntryType, data: asBytes(data) };
}

export function encodeHardState(hs: HardState): Uint8Array {
  return packr.pack([hs.term, hs.vote, hs.commit]);
}

export function decodeHardState(bytes: Uint8Array): HardState {
  const [term, vote, commit] = unpackTuple(bytes, 3, 'hard state');
  return { term: asCount(term, 'term'), vote: asCount(vote, 'vote'), commit: asCount(commit, 'commit') };
}

export function encodeSnapshot(snapshot: Snapshot): Uint8Array {
  const { index, term, confState } = snapshot.meta;
  return packr.pack([index, term, confState.voters, confState.learners, snapshot.data]);
}

export function decodeSnapshot(bytes: Uint8Array): Snapshot {
  const [index, term, voters, learners, data] = unpackTuple(bytes, 5, 'snapshot');
  return {
    meta: {
      index: asCount(index, 'snapshot index'),
      term: asCount(term, 'snapshot term'),
      confState: { voters: asNodeIds(voters), learners: asNodeIds(learners) },
    },
    data: asBytes(data),
  };
}

export function encodeBase(base: LogBase): Uint8Array {
  return packr.pack([base.index, base.term]);
}

export function decodeBase(bytes: Uint8Array): LogBase {
  const [index, term] = unpackTuple(bytes, 2, 'log base');
  return { index: asCount(index, 'base index'), term: asCount(term, 'base term') };
}

function unpackTuple(bytes: Uint8Array, length: number, what: string): unknown[] {
  const value: unknown = packr.unpack(bytes);
  invariant(Array.isArray(value) && value.length === length, () => `stored ${what} is malformed`);
  return value as unknown[];
}

function asCount(value: unknown, what: string): number {
  invariant(Number.isSafeInteger(value) && (value as number) >= 0, () => `stored ${what} is not a count: ${String(value)}`);
  return value as number;
}

function asNodeIds(value: unknown): NodeId[] {
  invariant(Array.isArray(value), () => 'stored node ids are not a list');
  return value.map((id) => asCount(id, 'node id'));
}

/**
 * msgpackr decodes binary as a Buffer that may share a pooled ArrayBuffer;
 * copy into a plain Uint8Array so stored data compares and behaves the same
 * as what the memory store hands back.
 */
function asBytes(value: unknown): Uint8Array {
  invariant(value instanceof Uint8Array, () => 'stored data is not binary');
  return new Uint8Array(value);
}

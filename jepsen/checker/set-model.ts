import { canonicalJson, hashString, memoByObject } from './canonical-json.js';
import { ModelOperationError } from './errors.js';
import type { Model, OpInput } from './model.js';

/** The members' canonical JSON, sorted; `hash` is order-free (a sum of member hashes). */
export interface SetState {
  readonly members: readonly string[];
  readonly hash: number;
}

/** A set that `add` ops (value: an element) grow and `read` ops (ok value: all elements, any order) observe. */
export function setModel(options: { name?: string } = {}): Model<SetState> {
  const name = options.name ?? 'set';
  const memberJson = memoByObject((input: OpInput) => canonicalJson(input.value));
  const readJson = memoByObject((output: { value: unknown }) => {
    if (!Array.isArray(output.value) && output.value !== null) throw new ModelOperationError(name, 'read', 'read value must be a list');
    return new Set(((output.value as unknown[] | null) ?? []).map(canonicalJson));
  });
  return {
    name,
    init: () => ({ members: [], hash: 0 }),
    step(state, input, output) {
      if (input.f === 'add') return { ok: true, state: add(state, memberJson(input)) };
      if (input.f !== 'read') throw new ModelOperationError(name, input.f, 'unknown operation (add, read)');
      if (output.type === 'info') return { ok: true, state };
      return sameMembers(state, readJson(output)) ? { ok: true, state } : { ok: false };
    },
    equal: (a, b) => a.hash === b.hash && a.members.length === b.members.length && a.members.every((m, i) => m === b.members[i]),
    hash: (state) => state.hash,
    isReadOnly: (input) => input.f === 'read',
    // An add no read shows can be dropped: every read after it would show it.
    effectId: (input) => (input.f === 'add' ? memberJson(input) : undefined),
    observedIds: (input, output) => (input.f === 'read' && output.type === 'ok' ? readJson(output) : []),
    describe: (state) => state.members.map((m) => JSON.parse(m) as unknown),
  };
}

function add(state: SetState, member: string): SetState {
  const at = lowerBound(state.members, member);
  if (state.members[at] === member) return state;
  const members = [...state.members.slice(0, at), member, ...state.members.slice(at)];
  return { members, hash: (state.hash + hashString(member)) | 0 };
}

function sameMembers(state: SetState, distinct: ReadonlySet<string>): boolean {
  if (distinct.size !== state.members.length) return false;
  for (const member of distinct) {
    if (state.members[lowerBound(state.members, member)] !== member) return false;
  }
  return true;
}

function lowerBound(sorted: readonly string[], target: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

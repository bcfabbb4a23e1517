import { canonicalJson, hashString, memoByObject, mixHash } from './canonical-json.js';
import { ModelOperationError } from './errors.js';
import type { Model, OpInput } from './model.js';

/**
 * The list as a persistent cons list, newest item first, so an append is
 * O(1) and shares the older items; `hash` covers the whole list.
 */
export interface ListNode {
  readonly item: string;
  readonly before: ListNode | null;
  readonly length: number;
  readonly hash: number;
}
export type AppendListState = ListNode | null;

const EMPTY_HASH = 0x2f1a3b;

/**
 * A list that `append` ops (value: a unique id) extend and `read` ops (ok
 * value: the whole list) observe: a read must equal, in order, the appends
 * linearized before it.
 */
export function appendList(options: { name?: string } = {}): Model<AppendListState> {
  const name = options.name ?? 'append-list';
  const itemJson = memoByObject((input: OpInput) => canonicalJson(input.value));
  const readJson = memoByObject((output: { value: unknown }) => {
    if (!Array.isArray(output.value) && output.value !== null) throw new ModelOperationError(name, 'read', 'read value must be a list');
    return ((output.value as unknown[] | null) ?? []).map(canonicalJson);
  });
  return {
    name,
    init: () => null,
    step(state, input, output) {
      if (input.f === 'append') return { ok: true, state: append(state, itemJson(input)) };
      if (input.f !== 'read') throw new ModelOperationError(name, input.f, 'unknown operation (append, read)');
      if (output.type === 'info') return { ok: true, state };
      return sameItems(state, readJson(output)) ? { ok: true, state } : { ok: false };
    },
    equal: sameList,
    hash: (state) => (state === null ? EMPTY_HASH : state.hash),
    isReadOnly: (input) => input.f === 'read',
    // An append no read shows can be dropped: every read after it would show it.
    effectId: (input) => (input.f === 'append' ? itemJson(input) : undefined),
    observedIds: (input, output) => (input.f === 'read' && output.type === 'ok' ? readJson(output) : []),
    describe: (state) => toArray(state).map((item) => JSON.parse(item) as unknown),
  };
}

function append(state: AppendListState, item: string): ListNode {
  const before = state === null ? EMPTY_HASH : state.hash;
  return { item, before: state, length: (state?.length ?? 0) + 1, hash: mixHash(before, hashString(item)) };
}

function sameItems(state: AppendListState, items: readonly string[]): boolean {
  if ((state?.length ?? 0) !== items.length) return false;
  let node = state;
  for (let i = items.length - 1; i >= 0; i--, node = node!.before) {
    if (node!.item !== items[i]) return false;
  }
  return true;
}

function sameList(a: AppendListState, b: AppendListState): boolean {
  for (;;) {
    if (a === b) return true;
    if (a === null || b === null || a.length !== b.length || a.hash !== b.hash || a.item !== b.item) return false;
    a = a.before;
    b = b.before;
  }
}

function toArray(state: AppendListState): string[] {
  const items: string[] = [];
  for (let node = state; node !== null; node = node.before) items.push(node.item);
  return items.reverse();
}

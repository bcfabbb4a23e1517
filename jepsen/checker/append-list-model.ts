import { canonicalJson, hashString, memoByObject, mixHash } from './canonical-json.js';
import { ModelOperationError } from './errors.js';
import type { Model, OpInput, OpOutcome } from './model.js';

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
    const items = ((output.value as unknown[] | null) ?? []).map(canonicalJson);
    return { items, hash: items.reduce((hash, item) => mixHash(hash, hashString(item)), EMPTY_HASH) };
  });
  const model: Model<AppendListState> = {
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
    observationProvesEffect: true,
    observedIds: (input, output) => (input.f === 'read' && output.type === 'ok' ? readJson(output).items : []),
    describe: (state) => toArray(state).map((item) => JSON.parse(item) as unknown),
    specialize(operations) {
      const order = observedOrder(operations, itemJson, readJson);
      if (order === undefined) return model;
      return { ...model, step: (state, input, output) => (input.f === 'append' && !appendFits(state, order, itemJson(input)) ? { ok: false } : model.step(state, input, output)) };
    },
  };
  return model;
}

/**
 * The order the reads show: in a linearizable history every read is a prefix
 * of the longest. Undefined when they are not (the plain search then finds
 * and explains the violation) or when an id is appended twice.
 */
function observedOrder(
  operations: readonly { input: OpInput; output: OpOutcome }[],
  itemJson: (input: OpInput) => string,
  readJson: (output: { value: unknown }) => ReadList,
): Map<string, number> | undefined {
  const reads = operations.flatMap(({ input, output }) => (input.f === 'read' && output.type === 'ok' ? [readJson(output).items] : []));
  const longest = reads.reduce<readonly string[]>((a, b) => (b.length > a.length ? b : a), []);
  if (reads.some((read) => read.some((item, i) => item !== longest[i]))) return undefined;
  const order = new Map(longest.map((item, i) => [item, i]));
  if (order.size !== longest.length) return undefined;
  const appended = new Set<string>();
  for (const { input } of operations) {
    if (input.f !== 'append') continue;
    const item = itemJson(input);
    if (appended.has(item)) return undefined;
    appended.add(item);
  }
  return order;
}

/**
 * Whether an append of an item may happen now. An item the reads show at
 * position p goes only onto exactly the p items they show before it: a read
 * showing it follows it and shows what was there first. Items no read shows
 * may go anywhere. Under this rule a list holds only shown items, in shown
 * order, exactly when its last item is shown at its last position.
 */
function appendFits(state: AppendListState, order: ReadonlyMap<string, number>, item: string): boolean {
  const position = order.get(item);
  if (position === undefined) return true;
  if (state === null) return position === 0;
  return state.length === position && order.get(state.item) === position - 1;
}

function append(state: AppendListState, item: string): ListNode {
  const before = state === null ? EMPTY_HASH : state.hash;
  return { item, before: state, length: (state?.length ?? 0) + 1, hash: mixHash(before, hashString(item)) };
}

/** What a read saw, with the hash a list of those items has, so most mismatches cost O(1). */
interface ReadList {
  readonly items: readonly string[];
  readonly hash: number;
}

function sameItems(state: AppendListState, { items, hash }: ReadList): boolean {
  if ((state?.length ?? 0) !== items.length || (state === null ? EMPTY_HASH : state.hash) !== hash) return false;
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

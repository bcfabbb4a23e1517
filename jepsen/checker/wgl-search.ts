import { performance } from 'node:perf_hooks';
import { Bitset } from './bitset.js';
import type { Model, OpInput, OpOutcome } from './model.js';
import { StateCache } from './state-cache.js';

/**
 * One operation of a partition. Positions are history positions (real-time
 * order); an operation with no return position (unknown outcome) may take
 * effect at any point after its call, or never.
 */
export interface SearchOperation {
  input: OpInput;
  output: OpOutcome;
  callPosition: number;
  returnPosition: number | undefined;
}

export interface SearchBounds {
  /** performance.now() value after which the search gives up. */
  deadline: number;
  /** Memoized configurations after which the search gives up. */
  maxStates: number;
}

export type SearchOutcome<S> =
  | { verdict: 'ok'; states: number; order: number[] }
  | { verdict: 'illegal'; states: number; longestPrefix: number[]; stateAfterPrefix: S }
  | { verdict: 'unknown'; states: number; reason: 'time-limit' | 'state-limit'; longestPrefix: number[]; stateAfterPrefix: S };

interface EventNode {
  readonly operation: number;
  readonly isCall: boolean;
  /** A call's return node; null for returns and for calls with unknown outcome. */
  match: EventNode | null;
  prev: EventNode | null;
  next: EventNode | null;
}

interface Linearized<S> {
  readonly call: EventNode;
  readonly stateBefore: S;
}

const CLOCK_CHECK_MASK = 1023;

/**
 * Wing & Gong's search with Lowe's memoization, as Porcupine does it: walk the
 * call/return events in history order; linearize a pending call when the model
 * accepts it and the (linearized set, state) configuration is new, lifting its
 * events out of the list; at a return whose call is not yet linearized,
 * backtrack. The history is linearizable once every op with a known outcome is
 * linearized; ops with unknown outcome left over are ops that never happened.
 */
export function searchLinearization<S>(model: Model<S>, operations: readonly SearchOperation[], bounds: SearchBounds): SearchOutcome<S> {
  const head = buildEventList(operations);
  const cache = new StateCache(model);
  const linearized = new Bitset(operations.length);
  const stack: Linearized<S>[] = [];
  let state = model.init();
  let openReturns = operations.filter((o) => o.returnPosition !== undefined).length;
  let longestPrefix: number[] = [];
  let stateAfterPrefix = state;
  let node = head.next;
  for (let iteration = 1; openReturns > 0; iteration++) {
    if ((iteration & CLOCK_CHECK_MASK) === 0 && performance.now() > bounds.deadline) {
      return { verdict: 'unknown', states: cache.size, reason: 'time-limit', longestPrefix, stateAfterPrefix };
    }
    if (node === null) throw new Error('linearizability search ran off the event list with returns still open');
    if (node.isCall) {
      const operation = operations[node.operation]!;
      const result = model.step(state, operation.input, operation.output);
      if (result.ok) {
        linearized.set(node.operation);
        if (cache.addIfAbsent(linearized, result.state)) {
          if (cache.size > bounds.maxStates) return { verdict: 'unknown', states: cache.size, reason: 'state-limit', longestPrefix, stateAfterPrefix };
          stack.push({ call: node, stateBefore: state });
          state = result.state;
          lift(node);
          if (node.match !== null) openReturns--;
          if (stack.length > longestPrefix.length) {
            longestPrefix = stack.map((s) => s.call.operation);
            stateAfterPrefix = state;
          }
          node = head.next;
          continue;
        }
        linearized.clear(node.operation);
      }
      node = node.next;
      continue;
    }
    const top = stack.pop();
    if (top === undefined) return { verdict: 'illegal', states: cache.size, longestPrefix, stateAfterPrefix };
    state = top.stateBefore;
    linearized.clear(top.call.operation);
    unlift(top.call);
    if (top.call.match !== null) openReturns++;
    node = top.call.next;
  }
  return { verdict: 'ok', states: cache.size, order: stack.map((s) => s.call.operation) };
}

function buildEventList(operations: readonly SearchOperation[]): EventNode {
  const events: { position: number; node: EventNode }[] = [];
  operations.forEach((operation, index) => {
    const call: EventNode = { operation: index, isCall: true, match: null, prev: null, next: null };
    events.push({ position: operation.callPosition, node: call });
    if (operation.returnPosition === undefined) return;
    const ret: EventNode = { operation: index, isCall: false, match: null, prev: null, next: null };
    call.match = ret;
    events.push({ position: operation.returnPosition, node: ret });
  });
  events.sort((a, b) => a.position - b.position);
  const head: EventNode = { operation: -1, isCall: false, match: null, prev: null, next: null };
  let last = head;
  for (const { node } of events) {
    last.next = node;
    node.prev = last;
    last = node;
  }
  return head;
}

// A call and its return leave the list together; a call is always before its
// return and the head sentinel is before both, so `prev` is never null here.
function lift(call: EventNode): void {
  call.prev!.next = call.next;
  if (call.next !== null) call.next.prev = call.prev;
  const ret = call.match;
  if (ret === null) return;
  ret.prev!.next = ret.next;
  if (ret.next !== null) ret.next.prev = ret.prev;
}

function unlift(call: EventNode): void {
  const ret = call.match;
  if (ret !== null) {
    ret.prev!.next = ret;
    if (ret.next !== null) ret.next.prev = ret;
  }
  call.prev!.next = call;
  if (call.next !== null) call.next.prev = call;
}

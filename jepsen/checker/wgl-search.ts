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
  /** Estimated bytes of memoized configurations after which the search gives up. */
  maxCacheBytes: number;
}

export type SearchOutcome<S> =
  | { verdict: 'ok'; states: number; order: number[] }
  | { verdict: 'illegal'; states: number; longestPrefix: number[]; stateAfterPrefix: S }
  | { verdict: 'unknown'; states: number; reason: 'time-limit' | 'state-limit' | 'memory-limit'; longestPrefix: number[]; stateAfterPrefix: S };

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
  const longest = new LongestPrefix(state);
  let node = head.next;
  for (let iteration = 1; openReturns > 0; iteration++) {
    if ((iteration & CLOCK_CHECK_MASK) === 0 && performance.now() > bounds.deadline) {
      return { verdict: 'unknown', states: cache.size, reason: 'time-limit', longestPrefix: longest.prefix, stateAfterPrefix: longest.state };
    }
    if (node === null) throw new Error('linearizability search ran off the event list with returns still open');
    if (node.isCall) {
      const operation = operations[node.operation]!;
      const result = model.step(state, operation.input, operation.output);
      if (result.ok) {
        linearized.set(node.operation);
        if (cache.addIfAbsent(linearized, result.state)) {
          if (cache.size > bounds.maxStates || cache.bytes > bounds.maxCacheBytes) {
            const reason = cache.size > bounds.maxStates ? 'state-limit' : 'memory-limit';
            return { verdict: 'unknown', states: cache.size, reason, longestPrefix: longest.prefix, stateAfterPrefix: longest.state };
          }
          stack.push({ call: node, stateBefore: state });
          state = result.state;
          lift(node);
          if (node.match !== null) openReturns--;
          longest.pushed(stack, state);
          node = head.next;
          continue;
        }
        linearized.clear(node.operation);
      }
      node = node.next;
      continue;
    }
    const top = stack.pop();
    if (top === undefined) return { verdict: 'illegal', states: cache.size, longestPrefix: longest.prefix, stateAfterPrefix: longest.state };
    longest.popped(stack.length);
    state = top.stateBefore;
    linearized.clear(top.call.operation);
    unlift(top.call);
    if (top.call.match !== null) openReturns++;
    node = top.call.next;
  }
  return { verdict: 'ok', states: cache.size, order: stack.map((s) => s.call.operation) };
}

/**
 * The deepest linearization reached so far, for explanations. Copying the
 * stack at every new depth would be quadratic on a long history, so this
 * keeps how much of the stack still agrees with the recorded prefix and
 * only extends it while they agree.
 */
class LongestPrefix<S> {
  prefix: number[] = [];
  /** Length of the common prefix of the stack and `prefix`. */
  private agree = 0;

  constructor(public state: S) {}

  pushed(stack: readonly Linearized<S>[], stateAfter: S): void {
    const depth = stack.length - 1;
    const operation = stack[depth]!.call.operation;
    if (this.agree === depth) {
      if (depth === this.prefix.length) {
        this.prefix.push(operation);
        this.state = stateAfter;
        this.agree++;
        return;
      }
      if (this.prefix[depth] === operation) this.agree++;
    }
    if (stack.length > this.prefix.length) {
      this.prefix = stack.map((s) => s.call.operation);
      this.state = stateAfter;
      this.agree = stack.length;
    }
  }

  popped(depth: number): void {
    this.agree = Math.min(this.agree, depth);
  }
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

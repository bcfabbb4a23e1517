import { performance } from 'node:perf_hooks';
import { CheckerOptionError } from './errors.js';
import type { Key, Op } from './history.js';
import type { Model, OpOutcome } from './model.js';
import { clientOperations, pairOperations, type Operation } from './operations.js';
import { searchLinearization, type SearchBounds, type SearchOperation, type SearchOutcome } from './wgl-search.js';

export type Verdict = 'ok' | 'illegal' | 'unknown';

/** Why a key's verdict is unknown: which bound the search hit. */
export type UnknownReason = 'time-limit' | 'state-limit' | 'memory-limit' | 'total-time-limit';

export interface LinearizabilityOptions {
  /** Search time per key; default 10 000 ms. */
  timeLimitMs?: number;
  /** Memoized (linearized set, state) configurations per key; default 1 000 000. */
  maxStates?: number;
  /**
   * Estimated memory of those configurations per key; default 512 MiB. Each
   * holds a bitset of the key's operations, so a long single-key history
   * reaches this before maxStates.
   */
  maxCacheBytes?: number;
  /** Search time for all keys together; keys not reached in time are unknown. Default: no limit. */
  totalTimeLimitMs?: number;
}

/**
 * Why a key is not linearizable: the longest prefix of operations the search
 * could linearize (in linearization order), the model state after it, and the
 * operation that could not come next: the first (in completion order) not in
 * the prefix. `candidates` are the other operations open at its completion,
 * any of which might have been linearized before it.
 */
export interface IllegalExplanation {
  linearizedPrefix: Operation[];
  stateAfterPrefix: unknown;
  stuck: Operation;
  candidates: Operation[];
}

export interface KeyVerdict {
  /** The partition's key; undefined for ops that carry none. */
  key: Key | undefined;
  verdict: Verdict;
  /** Operations searched (fail ops and unknown-outcome reads are dropped first). */
  operations: number;
  /** Configurations memoized. */
  states: number;
  elapsedMs: number;
  unknownReason?: UnknownReason;
  explanation?: IllegalExplanation;
}

export interface LinearizabilityResult {
  /** illegal if any key is; else unknown if any key is; else ok. */
  verdict: Verdict;
  keys: KeyVerdict[];
  /** Reads left out because the router marked them stale (served without quorum). */
  staleReads: number;
}

const DEFAULT_TIME_LIMIT_MS = 10_000;
const DEFAULT_MAX_STATES = 1_000_000;
const DEFAULT_MAX_CACHE_BYTES = 512 * 1024 * 1024;

/**
 * Checks that each key's sub-history is linearizable with respect to `model`.
 * Nemesis ops are ignored; `fail` ops did not happen and are removed; `info`
 * ops (and invocations the history never completed) may have taken effect at
 * any time after their invocation, or never. The search is bounded per key in
 * time and memory; a bound hit gives `unknown`, never a hang.
 */
export function checkLinearizability<S>(history: readonly Op[], model: Model<S>, options: LinearizabilityOptions = {}): LinearizabilityResult {
  return checkOperationsLinearizable(pairOperations(history), model, options);
}

/** checkLinearizability over already paired operations. */
export function checkOperationsLinearizable<S>(operations: readonly Operation[], model: Model<S>, options: LinearizabilityOptions = {}): LinearizabilityResult {
  const timeLimitMs = positive('timeLimitMs', options.timeLimitMs ?? DEFAULT_TIME_LIMIT_MS);
  const maxStates = positive('maxStates', options.maxStates ?? DEFAULT_MAX_STATES);
  const maxCacheBytes = positive('maxCacheBytes', options.maxCacheBytes ?? DEFAULT_MAX_CACHE_BYTES);
  const totalDeadline = performance.now() + positive('totalTimeLimitMs', options.totalTimeLimitMs ?? Infinity);
  const keys: KeyVerdict[] = [];
  // Leaving out a read keeps a linearizable history linearizable: stale reads promise nothing to check.
  const all = clientOperations(operations);
  const checked = all.filter((o) => o.completion?.stale !== true);
  for (const [key, partition] of partitionByKey(checked)) {
    const started = performance.now();
    if (started > totalDeadline) {
      keys.push({ key, verdict: 'unknown', operations: partition.length, states: 0, elapsedMs: 0, unknownReason: 'total-time-limit' });
      continue;
    }
    const keyDeadline = started + timeLimitMs;
    const verdict = checkPartition(key, partition, model, { deadline: Math.min(keyDeadline, totalDeadline), maxStates, maxCacheBytes });
    if (verdict.unknownReason === 'time-limit' && totalDeadline < keyDeadline) verdict.unknownReason = 'total-time-limit';
    keys.push(verdict);
  }
  return { verdict: overall(keys), keys, staleReads: all.length - checked.length };
}

function checkPartition<S>(key: Key | undefined, partition: readonly Operation[], model: Model<S>, bounds: SearchBounds): KeyVerdict {
  const started = performance.now();
  const candidates = partition.filter((o) => o.outcome !== 'fail').map((o) => ({ operation: o, search: toSearchOperation(o) }));
  const searchedPairs = withoutUnobservedUnknowns(model, candidates);
  const searched = searchedPairs.map((p) => p.operation);
  const searchOperations = searchedPairs.map((p) => p.search);
  const specialized = model.specialize?.(searchOperations) ?? model;
  const outcome = searchLinearization(specialized, searchOperations, bounds);
  const verdict: KeyVerdict = { key, verdict: outcome.verdict, operations: searched.length, states: outcome.states, elapsedMs: performance.now() - started };
  if (outcome.verdict === 'unknown') verdict.unknownReason = outcome.reason;
  if (outcome.verdict === 'illegal') verdict.explanation = explain(model, searched, outcome);
  return verdict;
}

/**
 * Unknown-outcome ops that cannot matter are dropped: reads (they change
 * nothing), and ops whose effect no other op observed (when the model can
 * tell, see Model.effectId). Each left in would multiply the configurations
 * to search. When observation proves an effect, an unknown-outcome op that
 * was observed gets a return: the first return of an ok op that saw it.
 */
function withoutUnobservedUnknowns<S, T extends { search: SearchOperation }>(model: Model<S>, operations: readonly T[]): T[] {
  const observed = new Map<string, number>();
  if (model.observedIds !== undefined) {
    for (const { search } of operations) {
      const seenBy = search.returnPosition ?? Infinity;
      for (const id of model.observedIds(search.input, search.output)) observed.set(id, Math.min(seenBy, observed.get(id) ?? Infinity));
    }
  }
  const kept = operations.filter(({ search }) => {
    if (search.output.type !== 'info') return true;
    if (model.isReadOnly?.(search.input) === true) return false;
    const effect = model.effectId?.(search.input);
    return effect === undefined || observed.has(effect);
  });
  if (model.observationProvesEffect === true) boundObservedUnknowns(model, kept, observed);
  return kept;
}

function boundObservedUnknowns<S>(model: Model<S>, operations: readonly { search: SearchOperation }[], observed: ReadonlyMap<string, number>): void {
  const effectCounts = new Map<string, number>();
  for (const { search } of operations) {
    const effect = model.effectId?.(search.input);
    if (effect !== undefined) effectCounts.set(effect, (effectCounts.get(effect) ?? 0) + 1);
  }
  for (const { search } of operations) {
    if (search.returnPosition !== undefined) continue;
    const effect = model.effectId?.(search.input);
    if (effect === undefined || effectCounts.get(effect) !== 1) continue;
    const seenBy = observed.get(effect) ?? Infinity;
    // Seen before it was invoked: leave it; the search will find that illegal.
    if (seenBy !== Infinity && seenBy > search.callPosition) search.returnPosition = seenBy;
  }
}

function toSearchOperation(operation: Operation): SearchOperation {
  const known = operation.outcome === 'ok' && operation.completion !== undefined;
  const output: OpOutcome = known ? { type: 'ok', value: operation.completion!.value } : { type: 'info' };
  return {
    input: { f: operation.f, value: operation.invoke.value },
    output,
    callPosition: operation.invoke.index,
    returnPosition: known ? operation.completion!.index : undefined,
  };
}

function explain<S>(model: Model<S>, searched: readonly Operation[], outcome: Extract<SearchOutcome<S>, { verdict: 'illegal' }>): IllegalExplanation {
  const inPrefix = new Set(outcome.longestPrefix);
  let stuck: Operation | undefined;
  for (let i = 0; i < searched.length; i++) {
    const completion = searched[i]!.completion;
    if (inPrefix.has(i) || searched[i]!.outcome !== 'ok' || completion === undefined) continue;
    if (stuck === undefined || completion.index < stuck.completion!.index) stuck = searched[i];
  }
  // An illegal verdict means some completed op could not be linearized, so one exists.
  const blocked = stuck!;
  const returnedAt = blocked.completion!.index;
  const candidates = searched.filter((o, i) => o !== blocked && !inPrefix.has(i) && o.invoke.index < returnedAt);
  const state = outcome.stateAfterPrefix;
  return {
    linearizedPrefix: outcome.longestPrefix.map((i) => searched[i]!),
    stateAfterPrefix: model.describe === undefined ? state : model.describe(state),
    stuck: blocked,
    candidates,
  };
}

/** Partitions in order of each key's first operation. */
function partitionByKey(operations: readonly Operation[]): Map<Key | undefined, Operation[]> {
  const partitions = new Map<Key | undefined, Operation[]>();
  for (const operation of operations) {
    const partition = partitions.get(operation.key);
    if (partition === undefined) partitions.set(operation.key, [operation]);
    else partition.push(operation);
  }
  return partitions;
}

function overall(keys: readonly KeyVerdict[]): Verdict {
  if (keys.some((k) => k.verdict === 'illegal')) return 'illegal';
  if (keys.some((k) => k.verdict === 'unknown')) return 'unknown';
  return 'ok';
}

function positive(option: string, value: number): number {
  if (!(value > 0)) throw new CheckerOptionError(option, `must be a positive number, got ${value}`);
  return value;
}

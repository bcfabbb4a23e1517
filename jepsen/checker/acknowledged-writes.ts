import { canonicalJson } from './canonical-json.js';
import type { Key, Op } from './history.js';
import type { Verdict } from './linearizability.js';
import { clientOperations, pairOperations, type Operation } from './operations.js';

export interface AcknowledgedWritesOptions {
  /** The op that adds one unique id (its invocation value); default 'add'. */
  addF?: string;
  /** The op that reads all ids of a key (its ok value, a list); default 'read'. */
  readF?: string;
  /** Keys `dataloss` reported: their losses are `reportedLost`, not `lost`. */
  datalossKeys?: readonly Key[];
}

/** An acknowledged id that a final read lacks. */
export interface LostWrite {
  id: unknown;
  add: Operation;
  missingFrom: Operation[];
}

/** An acknowledged id present at the end that some read after its acknowledgement lacked. */
export interface StaleWrite {
  id: unknown;
  add: Operation;
  staleReads: number;
  lastStaleRead: Operation;
}

export interface KeyAcknowledgement {
  key: Key | undefined;
  /** ok adds, attempted adds, and final reads: ok reads invoked after every ok add completed. */
  acknowledged: number;
  attempted: number;
  finalReads: number;
  lost: LostWrite[];
  reportedLost: LostWrite[];
  stale: StaleWrite[];
  /** Ids read that no add ever tried to write. */
  unexpected: { id: unknown; read: Operation }[];
  /** Ids read whose every add failed: a fail must not take effect. */
  failedButPresent: { id: unknown; add: Operation; read: Operation }[];
  /** Ids with unknown-outcome adds that a read shows did happen. */
  recovered: number;
}

export interface AcknowledgedWritesResult {
  /**
   * illegal: an unreported loss, an unexpected id, or a failed add that took
   * effect; unknown: a key with acknowledged adds has no final read; else ok.
   */
  verdict: Verdict;
  keys: KeyAcknowledgement[];
}

interface IdRecord {
  id: unknown;
  adds: Operation[];
}

/**
 * Jepsen's set-full check: every acknowledged add must appear in the final
 * read(s) of its key. Reported per key: lost ids (split by whether `dataloss`
 * reported the key), stale ids (eventually present but missed by a read that
 * started after the add was acknowledged), ids never written, and failed adds
 * that took effect.
 */
export function acknowledgedWrites(history: readonly Op[], options: AcknowledgedWritesOptions = {}): AcknowledgedWritesResult {
  const addF = options.addF ?? 'add';
  const readF = options.readF ?? 'read';
  const reported = new Set<Key>(options.datalossKeys ?? []);
  const byKey = new Map<Key | undefined, Operation[]>();
  for (const operation of clientOperations(pairOperations(history))) {
    if (operation.f !== addF && operation.f !== readF) continue;
    const list = byKey.get(operation.key) ?? [];
    list.push(operation);
    byKey.set(operation.key, list);
  }
  const keys = [...byKey].map(([key, operations]) => checkKey(key, operations, addF, key !== undefined && reported.has(key)));
  return { verdict: overall(keys), keys };
}

function checkKey(key: Key | undefined, operations: readonly Operation[], addF: string, reported: boolean): KeyAcknowledgement {
  const ids = new Map<string, IdRecord>();
  const reads: { read: Operation; seen: Set<string> }[] = [];
  for (const operation of operations) {
    if (operation.f === addF) {
      const id = canonicalJson(operation.invoke.value);
      const record = ids.get(id) ?? { id: operation.invoke.value, adds: [] };
      record.adds.push(operation);
      ids.set(id, record);
    } else if (operation.outcome === 'ok') {
      const value = operation.completion!.value;
      reads.push({ read: operation, seen: new Set(Array.isArray(value) ? value.map(canonicalJson) : []) });
    }
  }
  let acknowledgedAt = -1;
  for (const o of operations) if (o.f === addF && o.outcome === 'ok') acknowledgedAt = Math.max(acknowledgedAt, o.completion!.index);
  const finals = reads.filter((r) => r.read.invoke.index > acknowledgedAt);
  const result: KeyAcknowledgement = {
    key,
    acknowledged: 0,
    attempted: ids.size,
    finalReads: finals.length,
    lost: [],
    reportedLost: [],
    stale: [],
    unexpected: [],
    failedButPresent: [],
    recovered: 0,
  };
  for (const [id, record] of ids) classifyId(result, id, record, reads, finals, reported);
  const unexpected = new Set<string>();
  for (const { read, seen } of reads) {
    for (const id of seen) {
      if (ids.has(id) || unexpected.has(id)) continue;
      unexpected.add(id);
      result.unexpected.push({ id: JSON.parse(id), read });
    }
  }
  return result;
}

function classifyId(
  result: KeyAcknowledgement,
  id: string,
  record: IdRecord,
  reads: readonly { read: Operation; seen: Set<string> }[],
  finals: readonly { read: Operation; seen: Set<string> }[],
  reported: boolean,
): void {
  const ok = record.adds.find((a) => a.outcome === 'ok');
  const firstSeen = reads.find((r) => r.seen.has(id));
  if (ok === undefined) {
    const allFailed = record.adds.every((a) => a.outcome === 'fail');
    if (firstSeen !== undefined && allFailed) result.failedButPresent.push({ id: record.id, add: record.adds[0]!, read: firstSeen.read });
    else if (firstSeen !== undefined) result.recovered++;
    return;
  }
  result.acknowledged++;
  const missingFrom = finals.filter((r) => !r.seen.has(id)).map((r) => r.read);
  if (missingFrom.length > 0) {
    (reported ? result.reportedLost : result.lost).push({ id: record.id, add: ok, missingFrom });
    return;
  }
  const staleReads = reads.filter((r) => r.read.invoke.index > ok.completion!.index && !r.seen.has(id));
  const last = staleReads[staleReads.length - 1];
  if (last !== undefined) result.stale.push({ id: record.id, add: ok, staleReads: staleReads.length, lastStaleRead: last.read });
}

function overall(keys: readonly KeyAcknowledgement[]): Verdict {
  if (keys.some((k) => k.lost.length > 0 || k.unexpected.length > 0 || k.failedButPresent.length > 0)) return 'illegal';
  if (keys.some((k) => k.acknowledged > 0 && k.finalReads === 0)) return 'unknown';
  return 'ok';
}

import { ClassicLevel } from 'classic-level';
import { Packr } from 'msgpackr';
import { invariant } from '../raft/core/errors.js';
import type { Snapshot } from '../raft/core/types.js';
import type { AppliedCommand, StateMachine } from '../raft/state-machine.js';
import type { KvCommand } from './kv-command.js';
import { decodeKvCommand } from './kv-command.js';

type Db = ClassicLevel<string, string>;
type BatchOp = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };

const APPLIED_KEY = 'm/applied';
const DATA_PREFIX = 'd/';
const DATA_RANGE = { gte: DATA_PREFIX, lt: 'd0' } as const;
const snapshotPackr = new Packr({ useRecords: false });

/**
 * The demo key/value state machine, in its own LevelDB folder. Each apply()
 * is one batch holding the data changes and the new applied index
 * (m/applied), so a crash never applies an entry twice or skips one.
 *
 * Guard: commands must continue exactly at appliedIndex() + 1. The driver never
 * re-applies an entry, so a batch that starts at or below the applied index (or
 * leaves a gap) is refused with RaftInvariantError and changes nothing.
 *
 * apply() results: put → the previous value, get → the value (both string or
 * undefined), an entry without payload → undefined, a malformed payload → a
 * KvCommandError (returned, not thrown: every replica must get past it alike).
 */
export class LevelKvStateMachine implements StateMachine {
  // apply, snapshot and restore run one at a time, in call order.
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly db: Db,
    private applied: number,
  ) {}

  static async open(dir: string): Promise<LevelKvStateMachine> {
    const db: Db = new ClassicLevel<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    await db.open();
    const stored = await db.get(APPLIED_KEY);
    const applied = stored === undefined ? 0 : Number(stored);
    if (!Number.isSafeInteger(applied) || applied < 0) {
      await db.close();
      invariant(false, () => `stored applied index is not a count: ${stored}`);
    }
    return new LevelKvStateMachine(db, applied);
  }

  appliedIndex(): number {
    return this.applied;
  }

  /** A local read of the applied state (not linearizable on its own: pair it with ReadIndex). */
  get(key: string): Promise<string | undefined> {
    return this.db.get(DATA_PREFIX + key);
  }

  apply(commands: readonly AppliedCommand[]): Promise<unknown[]> {
    return this.serialize(() => this.applyNow(commands));
  }

  snapshot(): Promise<{ index: number; data: Uint8Array }> {
    return this.serialize(() => this.snapshotNow());
  }

  restore(snapshot: Snapshot): Promise<void> {
    return this.serialize(() => this.restoreNow(snapshot));
  }

  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    await this.db.close();
  }

  private serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.catch(() => undefined).then(task);
    this.queue = run;
    return run;
  }

  private async applyNow(commands: readonly AppliedCommand[]): Promise<unknown[]> {
    checkContinues(commands, this.applied);
    const last = commands.at(-1);
    if (last === undefined) return [];
    const decoded = commands.map((command) => decodePayload(command.payload));
    const values = await this.readKeys(decoded);
    const ops: BatchOp[] = [];
    const results = decoded.map((command) => execute(command, values, ops));
    ops.push({ type: 'put', key: APPLIED_KEY, value: String(last.index) });
    // No fsync: the entries are already durable in the Raft log, and the
    // applied index moves in the same batch as the data, so an OS crash can
    // only lose a suffix of applies, which are replayed from the log (or from
    // the log store's snapshot, which the driver restores when it is ahead).
    await this.db.batch(ops, { sync: false });
    this.applied = last.index;
    return results;
  }

  /** One read for the whole batch; later commands then see earlier ones' writes through the map. */
  private async readKeys(commands: readonly (KvCommand | Error | undefined)[]): Promise<Map<string, string | undefined>> {
    const keys = [...new Set(commands.flatMap((command) => (command === undefined || command instanceof Error ? [] : [command.key])))];
    const stored = await this.db.getMany(keys.map((key) => DATA_PREFIX + key));
    return new Map(keys.map((key, k) => [key, stored[k]]));
  }

  private async snapshotNow(): Promise<{ index: number; data: Uint8Array }> {
    const index = this.applied;
    const pairs: [string, string][] = [];
    for await (const [key, value] of this.db.iterator(DATA_RANGE)) pairs.push([key.slice(DATA_PREFIX.length), value]);
    return { index, data: snapshotPackr.pack([index, pairs]) };
  }

  private async restoreNow(snapshot: Snapshot): Promise<void> {
    const { index, pairs } = decodeKvSnapshot(snapshot.data);
    invariant(index === snapshot.meta.index, () => `snapshot data is at ${index}, its meta says ${snapshot.meta.index}`);
    const ops: BatchOp[] = [];
    for await (const key of this.db.keys(DATA_RANGE)) ops.push({ type: 'del', key });
    for (const [key, value] of pairs) ops.push({ type: 'put', key: DATA_PREFIX + key, value });
    ops.push({ type: 'put', key: APPLIED_KEY, value: String(index) });
    await this.db.batch(ops, { sync: true });
    this.applied = index;
  }
}

function checkContinues(commands: readonly AppliedCommand[], applied: number): void {
  commands.forEach((command, k) => {
    const expected = applied + 1 + k;
    invariant(command.index === expected, () => `apply of entry ${command.index}, expected ${expected} (applied index ${applied})`);
  });
}

function decodePayload(payload: Uint8Array | undefined): KvCommand | Error | undefined {
  if (payload === undefined) return undefined;
  try {
    return decodeKvCommand(payload);
  } catch (err) {
    return err as Error;
  }
}

/** Runs one command against the batch's view of the keys, queueing its write. */
function execute(command: KvCommand | Error | undefined, values: Map<string, string | undefined>, ops: BatchOp[]): unknown {
  if (command === undefined || command instanceof Error) return command;
  const current = values.get(command.key);
  if (command.op === 'put') {
    values.set(command.key, command.value);
    ops.push({ type: 'put', key: DATA_PREFIX + command.key, value: command.value });
  }
  return current;
}

function decodeKvSnapshot(data: Uint8Array): { index: number; pairs: [string, string][] } {
  let value: unknown;
  try {
    value = snapshotPackr.unpack(data);
  } catch (err) {
    invariant(false, () => `key/value snapshot is not msgpack: ${String(err)}`);
  }
  invariant(Array.isArray(value) && value.length === 2, () => 'key/value snapshot is malformed');
  const [index, pairs] = value as unknown[];
  invariant(Number.isSafeInteger(index) && Array.isArray(pairs), () => 'key/value snapshot is malformed');
  const valid = (pairs as unknown[]).every((p) => Array.isArray(p) && typeof p[0] === 'string' && typeof p[1] === 'string');
  invariant(valid, () => 'key/value snapshot holds a non-string pair');
  return { index: index as number, pairs: pairs as [string, string][] };
}

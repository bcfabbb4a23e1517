import { ClassicLevel } from 'classic-level';
import { Packr } from 'msgpackr';
import type { Snapshot } from '../raft/core/types.js';
import type { AppliedCommand } from '../raft/state-machine.js';
import { applyEntries } from './apply-entries.js';
import { ClusterQueries } from './cluster-queries.js';
import type { ClusterStateMachine } from './cluster-state-machine.js';
import { ClusterState } from './cluster-state.js';
import type { ClusterView } from './cluster-view.js';
import { clusterInvariant, SnapshotFormatError, StoredStateError } from './errors.js';
import { checkStateInvariants } from './invariants.js';
import { NO_BASE, otherBaseKeys, readBase, writeBase, type BaseImage } from './level-base-image.js';
import { decodeRecord, encodeRecord } from './level-record-codec.js';
import { decodeSnapshot, encodeSnapshot } from './snapshot-codec.js';
import { stateDigest, type StateDigest } from './state-digest.js';
import { decodeHeader, encodeHeader } from './state-header-codec.js';

type Db = ClassicLevel<string, Uint8Array>;
type BatchOp = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string };

// Layout: a meta record (applied index, everything but repositories, which
// base image is current), a base image (a snapshot image in chunks, see
// level-base-image.ts), and one delta record per repository changed since
// that base: its encoded record, or an empty value once deleted.
const META_KEY = 'm/state';
const DELTA_PREFIX = 'r/';
const DELTA_RANGE = { gte: DELTA_PREFIX, lt: 'r0' } as const;
const TOMBSTONE = new Uint8Array(0);
const META_VERSION = 2;
const metaPackr = new Packr({ useRecords: false });

export interface LevelClusterStateMachineOptions {
  /** Fold deltas into a new base (a checkpoint) once they reach this many, or half the repositories if more. */
  readonly checkpointAfterDeltas?: number;
}
interface Meta {
  readonly applied: number;
  readonly base: BaseImage;
  readonly deltas: number;
}

/**
 * The cluster state machine on LevelDB, in its own folder. The whole state
 * lives in memory (the router reads it there); LevelDB makes it durable.
 *
 * Each apply() is one batch: the delta records of the repositories the batch
 * changed, plus the meta record with the applied index, so a crash never
 * applies an entry twice or skips one. Writes are unsynced: the entries are
 * durable in the Raft log and a lost suffix of applies is replayed.
 *
 * Why a base image plus deltas rather than one record per repository: at a
 * million repositories, writing or loading a million LevelDB records takes
 * tens of seconds; a base image is written and decoded in about a second
 * (restore and reopen). Once deltas are many, an apply folds them into a new
 * base (a checkpoint, about as costly as a snapshot).
 */
export class LevelClusterStateMachine implements ClusterStateMachine {
  readonly view: ClusterView;
  // apply, snapshot and restore run one at a time, in call order.
  private queue: Promise<unknown> = Promise.resolve();
  // After a failed write, memory is ahead of disk: refuse to go on.
  private broken: unknown;

  private constructor(
    private readonly db: Db,
    readonly state: ClusterState,
    private meta: Meta,
    private readonly checkpointAfterDeltas: number,
  ) {
    this.view = new ClusterQueries(state, () => this.stateDigest());
  }

  static async open(dir: string, options: LevelClusterStateMachineOptions = {}): Promise<LevelClusterStateMachine> {
    const db: Db = new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
    await db.open();
    try {
      const { state, meta } = await load(db);
      // Chunks of a base whose switch never happened (a crash mid-checkpoint or mid-restore).
      await db.batch((await otherBaseKeys(db, meta.base)).map((key) => ({ type: 'del', key })));
      return new LevelClusterStateMachine(db, state, meta, options.checkpointAfterDeltas ?? 50_000);
    } catch (error) {
      await db.close();
      throw error;
    }
  }

  appliedIndex(): number {
    return this.meta.applied;
  }

  apply(commands: readonly AppliedCommand[]): Promise<unknown[]> {
    return this.serialize(() => this.applyNow(commands));
  }

  snapshot(): Promise<{ index: number; data: Uint8Array }> {
    return this.serialize(async () => ({ index: this.meta.applied, data: encodeSnapshot(this.state, this.meta.applied) }));
  }

  /**
   * In the apply queue: between the in-memory apply and the batch that
   * records its index, the state is ahead of meta.applied.
   */
  stateDigest(): Promise<StateDigest> {
    return this.serialize(async () => ({ index: this.meta.applied, digest: stateDigest(this.state) }));
  }

  restore(snapshot: Snapshot): Promise<void> {
    return this.serialize(() => this.restoreNow(snapshot));
  }

  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    await this.db.close();
  }

  private serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.catch(() => undefined).then(() => {
      if (this.broken !== undefined) throw this.broken;
      return task();
    });
    this.queue = run;
    return run;
  }

  private async applyNow(commands: readonly AppliedCommand[]): Promise<unknown[]> {
    const last = commands.at(-1);
    if (last === undefined) return [];
    const results = applyEntries(this.state, commands, this.meta.applied);
    const ops: BatchOp[] = this.state.drainDirty().map((id) => {
      const record = this.state.repository(id);
      return { type: 'put', key: DELTA_PREFIX + id, value: record ? encodeRecord(record) : TOMBSTONE };
    });
    const meta = { applied: last.index, base: this.meta.base, deltas: this.meta.deltas + ops.length };
    ops.push({ type: 'put', key: META_KEY, value: encodeMeta(this.state, meta) });
    await this.guard(() => this.db.batch(ops, { sync: false }));
    this.meta = meta;
    if (meta.deltas >= Math.max(this.checkpointAfterDeltas, this.state.repositories.size / 2)) {
      await this.guard(() => this.switchBase(this.state, encodeSnapshot(this.state, meta.applied), meta.applied, false));
    }
    return results;
  }

  private async restoreNow(snapshot: Snapshot): Promise<void> {
    const { index, state } = decodeSnapshot(snapshot.data);
    clusterInvariant(index === snapshot.meta.index, () => `snapshot data is at ${index}, its meta says ${snapshot.meta.index}`);
    checkStateInvariants(state);
    await this.guard(() => this.switchBase(state, snapshot.data, index, true));
    this.state.adopt(state);
  }

  /**
   * Makes `image` (the encoding of `state` at `applied`) the base: its chunks
   * go under a new generation, then one batch names it in the meta record and
   * drops every delta and the old chunks.
   */
  private async switchBase(state: ClusterState, image: Uint8Array, applied: number, sync: boolean): Promise<void> {
    const base = await writeBase(this.db, this.meta.base.generation + 1, image);
    const ops: BatchOp[] = [];
    for await (const key of this.db.keys(DELTA_RANGE)) ops.push({ type: 'del', key });
    for (const key of await otherBaseKeys(this.db, base)) ops.push({ type: 'del', key });
    const meta = { applied, base, deltas: 0 };
    ops.push({ type: 'put', key: META_KEY, value: encodeMeta(state, meta) });
    await this.db.batch(ops, { sync });
    this.meta = meta;
  }

  private async guard(write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (error) {
      this.broken = error;
      throw error;
    }
  }
}

async function load(db: Db): Promise<{ state: ClusterState; meta: Meta }> {
  const stored = await db.get(META_KEY);
  if (stored === undefined) return { state: new ClusterState(), meta: { applied: 0, base: NO_BASE, deltas: 0 } };
  const { meta, header } = decodeMeta(stored);
  const state = meta.base.chunks > 0 ? decodeBase(await readBase(db, meta.base)) : new ClusterState();
  try {
    decodeHeader(header, state);
  } catch (error) {
    if (error instanceof SnapshotFormatError) throw new StoredStateError(error.message);
    throw error;
  }
  let deltas = 0;
  for await (const [key, value] of db.iterator(DELTA_RANGE)) {
    applyDelta(state, key, value);
    deltas++;
  }
  state.drainDirty();
  checkStateInvariants(state);
  return { state, meta: { ...meta, deltas } };
}

function decodeBase(image: Uint8Array): ClusterState {
  try {
    return decodeSnapshot(image).state;
  } catch (error) {
    if (error instanceof SnapshotFormatError) throw new StoredStateError(`base image: ${error.message}`);
    throw error;
  }
}

function applyDelta(state: ClusterState, key: string, value: Uint8Array): void {
  const id = Number(key.slice(DELTA_PREFIX.length));
  if (!Number.isSafeInteger(id)) throw new StoredStateError(`unexpected key ${key}`);
  state.removeRepository(id);
  if (value.byteLength === 0) return;
  const record = decodeRecord(id, value);
  const storages = [record.primary, ...record.replicas.filter((_, i) => i % 2 === 0).map((key) => key >> 1)];
  const known = record.virtualStorage < state.virtualStorages.size && storages.every((storage) => storage < state.storages.size);
  if (!known) throw new StoredStateError(`repository ${id} names a storage the meta record does not know`);
  state.addRepository(record);
}

function encodeMeta(state: ClusterState, meta: Meta): Uint8Array {
  return metaPackr.pack({ version: META_VERSION, ...meta, ...encodeHeader(state) });
}

function decodeMeta(bytes: Uint8Array): { meta: Meta; header: Record<string, unknown> } {
  const stored = metaPackr.unpack(bytes) as Record<string, unknown> | null;
  const base = stored?.base as Partial<BaseImage> | undefined;
  const valid =
    stored?.version === META_VERSION &&
    Number.isSafeInteger(stored.applied) &&
    [base?.generation, base?.chunks, base?.bytes].every((n) => Number.isSafeInteger(n));
  if (!valid) throw new StoredStateError('the meta record is in an unknown format');
  return { meta: { applied: stored!.applied as number, base: base as BaseImage, deltas: 0 }, header: stored! };
}

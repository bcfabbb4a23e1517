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
import { decodeRecord, encodeRecord } from './level-record-codec.js';
import { decodeSnapshot, encodeSnapshot } from './snapshot-codec.js';
import { decodeHeader, encodeHeader } from './state-header-codec.js';

type Db = ClassicLevel<string, Uint8Array>;
type BatchOp = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string };

// Layout: one meta record (applied index + everything but repositories), one
// record per repository, and a marker that exists only while a restore runs.
const META_KEY = 'm/state';
const RESTORING_KEY = 'm/restoring';
const REPO_PREFIX = 'r/';
const REPO_RANGE = { gte: REPO_PREFIX, lt: 'r0' } as const;
const META_VERSION = 1;
const RESTORE_CHUNK = 10_000;
const metaPackr = new Packr({ useRecords: false });

/**
 * The cluster state machine on LevelDB, in its own folder. The whole state
 * lives in memory (the router reads it there); LevelDB makes it durable. Each
 * apply() is one batch holding the repositories the batch changed, the meta
 * record and the applied index, so a crash never applies an entry twice or
 * skips one. Writes are unsynced: the entries are durable in the Raft log and
 * a lost suffix of applies is replayed.
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
    private applied: number,
  ) {
    this.view = new ClusterQueries(state);
  }

  static async open(dir: string): Promise<LevelClusterStateMachine> {
    const db: Db = new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
    await db.open();
    try {
      // A restore that did not finish left a mix of old and new records: start empty, the driver restores again.
      if ((await db.get(RESTORING_KEY)) !== undefined) await db.clear();
      const { state, applied } = await load(db);
      return new LevelClusterStateMachine(db, state, applied);
    } catch (error) {
      await db.close();
      throw error;
    }
  }

  appliedIndex(): number {
    return this.applied;
  }

  apply(commands: readonly AppliedCommand[]): Promise<unknown[]> {
    return this.serialize(() => this.applyNow(commands));
  }

  snapshot(): Promise<{ index: number; data: Uint8Array }> {
    return this.serialize(async () => ({ index: this.applied, data: encodeSnapshot(this.state, this.applied) }));
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
    const results = applyEntries(this.state, commands, this.applied);
    const ops: BatchOp[] = this.state.drainDirty().map((id) => {
      const record = this.state.repository(id);
      return record ? { type: 'put', key: repoKey(id), value: encodeRecord(record) } : { type: 'del', key: repoKey(id) };
    });
    ops.push({ type: 'put', key: META_KEY, value: encodeMeta(this.state, last.index) });
    try {
      await this.db.batch(ops, { sync: false });
    } catch (error) {
      this.broken = error;
      throw error;
    }
    this.applied = last.index;
    return results;
  }

  /**
   * Replaces everything. A million records do not fit one batch comfortably,
   * so they go in chunks between a marker and a final synced batch that
   * writes the meta record and removes the marker; open() wipes a folder
   * still marked, and the driver restores again.
   */
  private async restoreNow(snapshot: Snapshot): Promise<void> {
    const { index, state } = decodeSnapshot(snapshot.data);
    clusterInvariant(index === snapshot.meta.index, () => `snapshot data is at ${index}, its meta says ${snapshot.meta.index}`);
    checkStateInvariants(state);
    try {
      await this.db.put(RESTORING_KEY, new Uint8Array(0), { sync: true });
      await this.db.clear(REPO_RANGE);
      await writeRecords(this.db, state);
      await this.db.batch([{ type: 'put', key: META_KEY, value: encodeMeta(state, index) }, { type: 'del', key: RESTORING_KEY }], { sync: true });
    } catch (error) {
      this.broken = error;
      throw error;
    }
    this.state.adopt(state);
    this.applied = index;
  }
}

async function writeRecords(db: Db, state: ClusterState): Promise<void> {
  let ops: BatchOp[] = [];
  for (const record of state.repositories.values()) {
    ops.push({ type: 'put', key: repoKey(record.id), value: encodeRecord(record) });
    if (ops.length >= RESTORE_CHUNK) {
      await db.batch(ops, { sync: false });
      ops = [];
    }
  }
  if (ops.length > 0) await db.batch(ops, { sync: false });
}

async function load(db: Db): Promise<{ state: ClusterState; applied: number }> {
  const state = new ClusterState();
  const meta = await db.get(META_KEY);
  if (meta === undefined) return { state, applied: 0 };
  const applied = decodeMeta(meta, state);
  for await (const [key, value] of db.iterator(REPO_RANGE)) {
    const id = Number(key.slice(REPO_PREFIX.length));
    if (!Number.isSafeInteger(id)) throw new StoredStateError(`unexpected key ${key}`);
    state.addRepository(decodeRecord(id, value));
  }
  state.drainDirty();
  checkStateInvariants(state);
  return { state, applied };
}

function encodeMeta(state: ClusterState, applied: number): Uint8Array {
  return metaPackr.pack({ version: META_VERSION, applied, ...encodeHeader(state) });
}

function decodeMeta(bytes: Uint8Array, state: ClusterState): number {
  const meta = metaPackr.unpack(bytes) as Record<string, unknown> | null;
  if (meta?.version !== META_VERSION || !Number.isSafeInteger(meta.applied)) throw new StoredStateError('the meta record is in an unknown format');
  try {
    decodeHeader(meta, state);
  } catch (error) {
    if (error instanceof SnapshotFormatError) throw new StoredStateError(error.message);
    throw error;
  }
  return meta.applied as number;
}

function repoKey(id: number): string {
  return REPO_PREFIX + id;
}

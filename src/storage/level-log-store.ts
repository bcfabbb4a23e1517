import { ClassicLevel } from 'classic-level';
import type { Entry } from '../raft/core/types.js';
import {
  BASE_KEY,
  ENTRY_RANGE,
  HARD_STATE_KEY,
  SNAPSHOT_KEY,
  decodeBase,
  decodeEntry,
  decodeHardState,
  decodeSnapshot,
  encodeBase,
  encodeEntry,
  encodeHardState,
  encodeSnapshot,
  entryKey,
} from './log-codec.js';
import type { LogChange } from './log-mirror.js';
import { EMPTY_IMAGE, LogMirror } from './log-mirror.js';
import { MirroredLogStore } from './mirrored-log-store.js';

type Db = ClassicLevel<string, Uint8Array>;

type BatchOp = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string };

/**
 * The Raft log, hard state and latest snapshot in one LevelDB folder. The
 * whole uncompacted log is mirrored in memory (the core reads synchronously);
 * each save is one synced LevelDB batch, so a crash leaves either all of a
 * Ready's state or none of it. Batches are written one at a time in call order.
 * After a failed write the disk is behind the view, so the store refuses
 * further saves: the node must restart from what is on disk.
 */
export class LevelLogStore extends MirroredLogStore {
  private writes: Promise<void> = Promise.resolve();
  private failure: unknown;

  private constructor(
    private readonly db: Db,
    mirror: LogMirror,
  ) {
    super(mirror);
  }

  static async open(dir: string): Promise<LevelLogStore> {
    const db: Db = new ClassicLevel<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' });
    await db.open();
    try {
      return new LevelLogStore(db, await load(db));
    } catch (err) {
      await db.close();
      throw err;
    }
  }

  protected persist(change: LogChange): Promise<void> {
    // Encode now: the caller's objects may be reused once save() has returned.
    const ops = toBatchOps(change);
    const sync = this.mustSync(change);
    const write = this.writes.then(() => this.write(ops, sync));
    this.writes = write.catch((err: unknown) => {
      this.failure ??= err;
      this.markClosed(`a write failed: ${String(err)}`);
    });
    return write;
  }

  protected async release(): Promise<void> {
    await this.writes;
    await this.db.close();
  }

  /**
   * Entries, snapshots, term and vote must reach the disk before anyone acts
   * on them. A change of the commit index alone need not: it is recomputed
   * from a quorum after a restart, and LevelDB still writes it in order, so
   * skipping that fsync takes one off the commit path (etcd does the same).
   */
  private mustSync(change: LogChange): boolean {
    const previous = this.lastTermVote;
    if (change.hardState) this.lastTermVote = { term: change.hardState.term, vote: change.hardState.vote };
    if (change.snapshot || change.base || change.appended.length > 0 || change.deleted.length > 0) return true;
    if (!change.hardState) return false;
    return previous === undefined || previous.term !== change.hardState.term || previous.vote !== change.hardState.vote;
  }

  private lastTermVote: { term: number; vote: number } | undefined;

  private async write(ops: BatchOp[], sync: boolean): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    if (ops.length > 0) await this.db.batch(ops, { sync });
  }
}

async function load(db: Db): Promise<LogMirror> {
  const [hard, snap, base] = await db.getMany([HARD_STATE_KEY, SNAPSHOT_KEY, BASE_KEY]);
  const entries: Entry[] = [];
  for await (const value of db.values(ENTRY_RANGE)) entries.push(decodeEntry(value));
  // LogMirror checks that the entries are contiguous and agree with base and snapshot.
  return new LogMirror({
    hardState: hard === undefined ? EMPTY_IMAGE.hardState : decodeHardState(hard),
    snapshot: snap === undefined ? EMPTY_IMAGE.snapshot : decodeSnapshot(snap),
    base: base === undefined ? EMPTY_IMAGE.base : decodeBase(base),
    entries,
  });
}

function toBatchOps(change: LogChange): BatchOp[] {
  const ops: BatchOp[] = [];
  for (const range of change.deleted) {
    for (let index = range.from; index <= range.to; index++) ops.push({ type: 'del', key: entryKey(index) });
  }
  for (const entry of change.appended) ops.push({ type: 'put', key: entryKey(entry.index), value: encodeEntry(entry) });
  if (change.hardState !== undefined) ops.push({ type: 'put', key: HARD_STATE_KEY, value: encodeHardState(change.hardState) });
  if (change.snapshot !== undefined) ops.push({ type: 'put', key: SNAPSHOT_KEY, value: encodeSnapshot(change.snapshot) });
  if (change.base !== undefined) ops.push({ type: 'put', key: BASE_KEY, value: encodeBase(change.base) });
  return ops;
}

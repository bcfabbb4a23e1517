import type { LogChange, LogImage } from './log-mirror.js';
import { EMPTY_IMAGE, LogMirror } from './log-mirror.js';
import { MirroredLogStore } from './mirrored-log-store.js';

/**
 * 'immediate': a save is durable before it resolves.
 * 'manual': a save stays pending (unresolved, not durable) until syncPending();
 * the simulator decides when the disk catches up, or crashes before it does.
 */
export type SyncMode = 'immediate' | 'manual';

export interface MemoryLogStoreOptions {
  readonly syncMode?: SyncMode;
  /** Start from this durable image (see fromImage); empty by default. */
  readonly image?: LogImage;
}

interface PendingWrite {
  readonly change: LogChange;
  readonly resolve: () => void;
}

/**
 * The in-memory LogStore used by the deterministic simulator. Same validation
 * and semantics as LevelLogStore (both build on LogMirror); on top it keeps a
 * durable image, which is all that survives a simulated crash:
 *
 *   const image = store.durableImage();      // what the disk holds now
 *   const restarted = MemoryLogStore.fromImage(image);
 *
 * No timers and no randomness: the caller drives every transition.
 * The store keeps references to the entries and snapshots it is given; they are
 * plain data and nobody may mutate them.
 */
export class MemoryLogStore extends MirroredLogStore {
  readonly syncMode: SyncMode;
  private readonly durable: LogMirror;
  private pending: PendingWrite[] = [];

  constructor(options: MemoryLogStoreOptions = {}) {
    const image = options.image ?? EMPTY_IMAGE;
    super(new LogMirror(image));
    this.syncMode = options.syncMode ?? 'immediate';
    this.durable = new LogMirror(image);
  }

  /** A store that starts from what another store had made durable, as after a restart. */
  static fromImage(image: LogImage, options: Omit<MemoryLogStoreOptions, 'image'> = {}): MemoryLogStore {
    return new MemoryLogStore({ ...options, image });
  }

  /** What a crash right now would leave on disk. */
  durableImage(): LogImage {
    return this.durable.image();
  }

  /** Saves that the view shows but the disk does not hold yet. */
  pendingCount(): number {
    return this.pending.length;
  }

  /** Makes up to `maxWrites` pending saves durable, oldest first, and resolves them. Returns how many. */
  syncPending(maxWrites = Number.POSITIVE_INFINITY): number {
    const synced = this.pending.splice(0, maxWrites);
    for (const write of synced) {
      this.durable.apply(write.change);
      write.resolve();
    }
    return synced.length;
  }

  /**
   * A crash: pending saves are lost and the view falls back to the durable
   * image. Their promises never settle, as the process that awaited them is gone.
   * Returns how many saves were lost.
   */
  dropUnsynced(): number {
    const lost = this.pending.length;
    this.pending = [];
    this.mirror = new LogMirror(this.durable.image());
    return lost;
  }

  protected persist(change: LogChange): Promise<void> {
    if (this.syncMode === 'immediate') {
      this.durable.apply(change);
      return Promise.resolve();
    }
    return new Promise((resolve) => this.pending.push({ change, resolve }));
  }

  protected release(): Promise<void> {
    return Promise.resolve();
  }
}

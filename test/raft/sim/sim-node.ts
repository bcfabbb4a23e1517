import {
  bootstrapEntries,
  decodeConfChange,
  RawNode,
  SeededPrng,
  type Entry,
  type Message,
  type NodeId,
  type RaftOptions,
  type ReadState,
  type Snapshot,
} from '../../../src/raft/core/index.js';
import { MemoryLogStore } from '../../../src/storage/memory-log-store.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The simulated state machine: a map from key to the list of values appended. */
export class SimStateMachine {
  appliedIndex = 0;
  values = new Map<string, string[]>();

  apply(entry: Entry): void {
    if (entry.index !== this.appliedIndex + 1) {
      throw new Error(`state machine applied ${entry.index} after ${this.appliedIndex}: not exactly once`);
    }
    this.appliedIndex = entry.index;
    if (entry.type !== 'normal' || entry.data.length === 0) return;
    const { key, value } = JSON.parse(decoder.decode(entry.data)) as { key: string; value: string };
    const list = this.values.get(key) ?? [];
    list.push(value);
    this.values.set(key, list);
  }

  snapshotData(): Uint8Array {
    return encoder.encode(JSON.stringify({ applied: this.appliedIndex, values: [...this.values] }));
  }

  restore(snapshot: Snapshot): void {
    const parsed = JSON.parse(decoder.decode(snapshot.data)) as { applied: number; values: [string, string[]][] };
    if (parsed.applied !== snapshot.meta.index) {
      throw new Error(`snapshot data at ${parsed.applied} labelled ${snapshot.meta.index}`);
    }
    this.appliedIndex = snapshot.meta.index;
    this.values = new Map(parsed.values);
  }
}

export function encodeCommand(key: string, value: string): Uint8Array {
  return encoder.encode(JSON.stringify({ key, value }));
}

export interface AppliedRecord {
  readonly node: NodeId;
  readonly entry: Entry;
}

export interface SimNodeHooks {
  onApplied(node: NodeId, entry: Entry): void;
  onReadState(node: NodeId, readState: ReadState): void;
  onFailure(error: unknown): void;
}

/**
 * One simulated router: a RawNode over a MemoryLogStore whose un-synced
 * writes a crash loses, and a state machine whose applies are durable (as
 * LevelKvStateMachine stores the applied index with the data).
 */
export class SimNode {
  readonly store: MemoryLogStore;
  rawNode: RawNode;
  up = true;
  removed = false;
  /** A Ready saved but not yet synced: the window in which a crash loses it. */
  private unsynced: ReturnType<RawNode['ready']> | undefined;

  constructor(
    readonly id: NodeId,
    private readonly options: Omit<RaftOptions, 'id' | 'storage' | 'prng' | 'applied'>,
    private readonly hooks: SimNodeHooks,
    readonly sm: SimStateMachine,
    store: MemoryLogStore,
    seed: number,
  ) {
    this.store = store;
    this.rawNode = this.makeRawNode(seed);
  }

  static bootstrap(id: NodeId, voters: readonly NodeId[], options: SimNode['options'], hooks: SimNodeHooks, seed: number): SimNode {
    const store = new MemoryLogStore({ syncMode: 'manual' });
    if (voters.length > 0) {
      void store.save({ hardState: { term: 1, vote: 0, commit: voters.length }, entries: bootstrapEntries(voters), snapshot: undefined });
      store.syncPending();
    }
    return new SimNode(id, options, hooks, new SimStateMachine(), store, seed);
  }

  private makeRawNode(seed: number): RawNode {
    return new RawNode({
      ...this.options,
      id: this.id,
      storage: this.store,
      prng: new SeededPrng(seed),
      applied: this.sm.appliedIndex,
    });
  }

  /** First half of a Ready: take it and hand it to the disk. */
  beginReady(): boolean {
    if (!this.up || this.unsynced || !this.rawNode.hasReady()) return false;
    const rd = this.rawNode.ready();
    if (rd.hardState || rd.entries.length > 0 || rd.snapshot) {
      this.store.save({ hardState: rd.hardState, entries: rd.entries, snapshot: rd.snapshot }).catch((e: unknown) => this.hooks.onFailure(e));
    }
    this.unsynced = rd;
    return true;
  }

  /** Second half: the disk synced; send, apply, advance. Returns the messages to send. */
  finishReady(): Message[] {
    const rd = this.unsynced;
    if (!rd || !this.up) return [];
    this.unsynced = undefined;
    this.store.syncPending();
    if (rd.snapshot) this.sm.restore(rd.snapshot);
    for (const entry of rd.committedEntries) {
      if (entry.index <= this.sm.appliedIndex) continue;
      this.sm.apply(entry);
      if (entry.type === 'confChange') this.rawNode.applyConfChange(decodeConfChange(entry.data));
      this.hooks.onApplied(this.id, entry);
    }
    for (const readState of rd.readStates) this.hooks.onReadState(this.id, readState);
    this.rawNode.advance();
    return [...rd.messages];
  }

  /** The crash: pending disk writes are lost, and so is everything in memory but the state machine. */
  crash(): void {
    this.up = false;
    this.unsynced = undefined;
    this.store.dropUnsynced();
  }

  restart(seed: number): void {
    this.up = true;
    this.rawNode = this.makeRawNode(seed);
  }

  /** Takes a snapshot of the state machine and compacts the log behind it, keeping `keepEntries`. */
  compact(keepEntries: number): void {
    const applied = this.sm.appliedIndex;
    if (!this.up || this.unsynced || applied <= this.store.firstIndex()) return;
    const snapshot: Snapshot = {
      meta: { index: applied, term: this.store.term(applied), confState: this.rawNode.status().confState },
      data: this.sm.snapshotData(),
    };
    const compactIndex = Math.max(this.store.firstIndex() - 1, applied - keepEntries);
    this.store.saveSnapshot(snapshot, compactIndex).catch((e: unknown) => this.hooks.onFailure(e));
  }
}

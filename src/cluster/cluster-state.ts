import { DEFAULT_SETTINGS, type ClusterSettings } from './cluster-settings.js';
import { clusterInvariant } from './errors.js';
import { NO_STORAGE, type RepositoryRecord } from './repository-record.js';
import { StringTable } from './string-table.js';

/** One router's view of one storage: what it last reported, and since when (cluster time). */
export interface HealthView {
  readonly healthy: boolean;
  readonly sinceMs: number;
}

export class RouterRecord {
  constructor(
    /** The router's own clock at its latest command: input to cluster time only, never to its activity. */
    public latestStampMs: number,
    /** How far the router's clock is off cluster time, as estimated when it joined or its clock last stepped (cluster-time.ts). */
    public clockOffsetMs: number,
    /** Cluster time at which its latest refresh applied; undefined until it refreshes. */
    public lastSeenMs: number | undefined,
    /** Keyed by healthKey(virtual storage, storage). */
    public readonly views: Map<number, HealthView>,
  ) {}
}

// Storage ids stay far below this, so one number keys a (virtual storage, storage) pair.
const STORAGE_ID_SPAN = 1 << 20;

export function healthKey(virtualStorage: number, storage: number): number {
  return virtualStorage * STORAGE_ID_SPAN + storage;
}

export function splitHealthKey(key: number): { virtualStorage: number; storage: number } {
  return { virtualStorage: Math.floor(key / STORAGE_ID_SPAN), storage: key % STORAGE_ID_SPAN };
}

/**
 * The replicated cluster state in memory: what apply() changes and what the
 * router's queries read. It holds data and the primitive changes only; the
 * rules live in the apply-*.ts and query files. Records touched since the
 * last drainDirty() are tracked so a durable state machine persists only them.
 */
export class ClusterState {
  storages = new StringTable();
  virtualStorages = new StringTable();
  repositories = new Map<number, RepositoryRecord>();
  routers = new Map<string, RouterRecord>();
  clusterTimeMs = 0;
  settings: ClusterSettings = DEFAULT_SETTINGS;
  /** Changes whenever an input of consensus health other than cluster time changes (views, activity, routers, settings). */
  healthVersion = 0;
  // Per virtual storage: relative path → repository id. Keys are the records' own strings, so no copy.
  private paths = new Map<number, Map<string, number>>();
  private dirty = new Set<number>();

  repository(id: number): RepositoryRecord | undefined {
    return this.repositories.get(id);
  }

  repositoryIdByPath(virtualStorage: number, relativePath: string): number | undefined {
    return this.paths.get(virtualStorage)?.get(relativePath);
  }

  indexedPathCount(): number {
    let count = 0;
    for (const byPath of this.paths.values()) count += byPath.size;
    return count;
  }

  addRepository(record: RepositoryRecord): void {
    clusterInvariant(!this.repositories.has(record.id), () => `repository ${record.id} already exists`);
    this.repositories.set(record.id, record);
    let byPath = this.paths.get(record.virtualStorage);
    if (byPath === undefined) this.paths.set(record.virtualStorage, (byPath = new Map()));
    byPath.set(record.relativePath, record.id);
    this.dirty.add(record.id);
  }

  removeRepository(id: number): void {
    const record = this.repositories.get(id);
    if (record === undefined) return;
    this.repositories.delete(id);
    this.paths.get(record.virtualStorage)?.delete(record.relativePath);
    this.dirty.add(id);
  }

  /** Marks a repository changed in place, for persistence. */
  touch(id: number): void {
    this.dirty.add(id);
  }

  /** The repositories changed since the last call (present: put; absent: deleted). */
  drainDirty(): number[] {
    const ids = [...this.dirty];
    this.dirty.clear();
    return ids;
  }

  router(name: string): RouterRecord {
    let record = this.routers.get(name);
    if (record === undefined) {
      record = new RouterRecord(0, 0, undefined, new Map());
      this.routers.set(name, record);
      this.healthVersion++;
    }
    return record;
  }

  storageName(id: number): string | null {
    return id === NO_STORAGE ? null : this.storages.name(id);
  }

  /** Takes over another state's contents, so readers holding this object see a restore. */
  adopt(other: ClusterState): void {
    this.storages = other.storages;
    this.virtualStorages = other.virtualStorages;
    this.repositories = other.repositories;
    this.routers = other.routers;
    this.clusterTimeMs = other.clusterTimeMs;
    this.settings = other.settings;
    this.paths = other.paths;
    this.dirty = new Set();
    // Past both counters, so no memoized health of this object survives the swap.
    this.healthVersion = other.healthVersion + this.healthVersion + 1;
  }
}

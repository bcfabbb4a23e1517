import type { ClusterSettings } from './cluster-settings.js';
import { healthKey, RouterRecord, splitHealthKey, type ClusterState, type HealthView } from './cluster-state.js';
import { SnapshotFormatError } from './errors.js';
import { StringTable } from './string-table.js';

/**
 * Everything of the state but the repositories: cluster time, settings, the
 * interned names and the routers with their health views. Small (routers ×
 * storages), shared by the snapshot image and the LevelDB meta record.
 */
export interface StateHeader {
  readonly clusterTimeMs: number;
  readonly settings: ClusterSettings;
  readonly storages: string[];
  readonly virtualStorages: string[];
  readonly routers: RouterRow[];
}

type ViewRow = [virtualStorage: number, storage: number, healthy: boolean, sinceMs: number];
type RouterRow = [name: string, latestStampMs: number, clockOffsetMs: number, lastSeenMs: number | null, views: ViewRow[]];

export function encodeHeader(state: ClusterState): StateHeader {
  return {
    clusterTimeMs: state.clusterTimeMs,
    settings: state.settings,
    storages: state.storages.toArray(),
    virtualStorages: state.virtualStorages.toArray(),
    routers: [...state.routers].map(([name, router]) => [name, router.latestStampMs, router.clockOffsetMs, router.lastSeenMs ?? null, encodeViews(router.views)]),
  };
}

function encodeViews(views: ReadonlyMap<number, HealthView>): ViewRow[] {
  return [...views].map(([key, view]) => {
    const { virtualStorage, storage } = splitHealthKey(key);
    return [virtualStorage, storage, view.healthy, view.sinceMs];
  });
}

/** Fills a fresh state's header fields; throws SnapshotFormatError on anything malformed. */
export function decodeHeader(value: Partial<Record<keyof StateHeader, unknown>>, state: ClusterState): void {
  state.clusterTimeMs = finite(value.clusterTimeMs, 'clusterTimeMs');
  const settings = value.settings as Partial<ClusterSettings> | null | undefined;
  state.settings = { activityWindowMs: finite(settings?.activityWindowMs, 'settings.activityWindowMs') };
  state.storages = StringTable.from(stringList(value.storages, 'storages'));
  state.virtualStorages = StringTable.from(stringList(value.virtualStorages, 'virtualStorages'));
  if (!Array.isArray(value.routers)) throw new SnapshotFormatError('routers is not a list');
  state.routers = new Map((value.routers as unknown[]).map(decodeRouter));
}

function decodeRouter(row: unknown): [string, RouterRecord] {
  const [name, latestStampMs, clockOffsetMs, lastSeenMs, views] = Array.isArray(row) ? (row as unknown[]) : [];
  if (typeof name !== 'string' || !Array.isArray(views)) throw new SnapshotFormatError('a router row is malformed');
  const viewMap = new Map<number, HealthView>(
    (views as unknown[]).map((view) => {
      const [vs, storage, healthy, sinceMs] = Array.isArray(view) ? (view as unknown[]) : [];
      return [healthKey(finite(vs, 'view.virtualStorage'), finite(storage, 'view.storage')), { healthy: healthy === true, sinceMs: finite(sinceMs, 'view.sinceMs') }];
    }),
  );
  const lastSeen = lastSeenMs === null ? undefined : finite(lastSeenMs, `router ${name} lastSeenMs`);
  return [name, new RouterRecord(finite(latestStampMs, `router ${name} stamp`), finite(clockOffsetMs, `router ${name} clock offset`), lastSeen, viewMap)];
}

export function finite(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new SnapshotFormatError(`${field} is not a number`);
  return value;
}

function stringList(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw new SnapshotFormatError(`${field} is not a list of strings`);
  return value;
}

import { Packr } from 'msgpackr';
import { ClusterState } from './cluster-state.js';
import { SnapshotFormatError } from './errors.js';
import { NO_STORAGE, RepositoryRecord, type WriteIntent } from './repository-record.js';
import { decodeHeader, encodeHeader, finite } from './state-header-codec.js';
import { fromBytes, toBytes } from './typed-bytes.js';

/**
 * The snapshot image: one msgpack map, versioned. Repositories are stored in
 * columns (typed arrays as raw bytes, relative paths as one NUL-joined
 * string), so a million of them pack and unpack in about a second instead of
 * building a million small msgpack maps. Storage names are interned ids.
 */
export const SNAPSHOT_FORMAT = 'praefect-cluster-state';
export const SNAPSHOT_VERSION = 1;

const packr = new Packr({ useRecords: false });

type IntentRow = [ordinal: number, intentId: string, router: string, storage: number, generation: number, recordedAtMs: number];

interface RepositoryColumns {
  readonly count: number;
  readonly ids: Uint8Array;
  readonly virtualStorages: Uint8Array;
  readonly primaries: Uint8Array;
  readonly primaryBases: Uint8Array;
  readonly replicaCounts: Uint8Array;
  readonly replicaKeys: Uint8Array;
  readonly replicaGenerations: Uint8Array;
  readonly relativePaths: string;
  readonly customReplicaPaths: [ordinal: number, path: string][];
  readonly intents: IntentRow[];
}

export function encodeSnapshot(state: ClusterState, index: number): Uint8Array {
  return packr.pack({
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    index,
    ...encodeHeader(state),
    repositories: encodeRepositories(state),
  });
}

function encodeRepositories(state: ClusterState): RepositoryColumns {
  const count = state.repositories.size;
  const ids = new Float64Array(count);
  const virtualStorages = new Uint32Array(count);
  const primaries = new Int32Array(count);
  const primaryBases = new Float64Array(count);
  const replicaCounts = new Uint16Array(count);
  let pairs = 0;
  for (const record of state.repositories.values()) pairs += record.replicas.length / 2;
  const replicaKeys = new Int32Array(pairs);
  const replicaGenerations = new Float64Array(pairs);
  const paths: string[] = new Array<string>(count);
  const customReplicaPaths: [number, string][] = [];
  const intents: IntentRow[] = [];
  let i = 0;
  let p = 0;
  for (const record of state.repositories.values()) {
    ids[i] = record.id;
    virtualStorages[i] = record.virtualStorage;
    primaries[i] = record.primary;
    primaryBases[i] = record.primaryBase;
    replicaCounts[i] = record.replicas.length / 2;
    for (let k = 0; k < record.replicas.length; k += 2, p++) {
      replicaKeys[p] = record.replicas[k]!;
      replicaGenerations[p] = record.replicas[k + 1]!;
    }
    paths[i] = record.relativePath;
    if (record.customReplicaPath !== undefined) customReplicaPaths.push([i, record.customReplicaPath]);
    for (const intent of record.intents ?? []) intents.push([i, intent.intentId, intent.router, intent.storage, intent.generation, intent.recordedAtMs]);
    i++;
  }
  return {
    count,
    ids: toBytes(ids),
    virtualStorages: toBytes(virtualStorages),
    primaries: toBytes(primaries),
    primaryBases: toBytes(primaryBases),
    replicaCounts: toBytes(replicaCounts),
    replicaKeys: toBytes(replicaKeys),
    replicaGenerations: toBytes(replicaGenerations),
    // Relative paths never contain NUL (commands refuse it), so it separates them.
    relativePaths: paths.join('\0'),
    customReplicaPaths,
    intents,
  };
}

/** Decodes a snapshot image into a fresh state; throws SnapshotFormatError on anything malformed. */
export function decodeSnapshot(data: Uint8Array): { index: number; state: ClusterState } {
  const image = unpackImage(data);
  const state = new ClusterState();
  decodeHeader(image, state);
  decodeRepositories(state, image.repositories);
  state.drainDirty();
  return { index: finite(image.index, 'index'), state };
}

function unpackImage(data: Uint8Array): Record<string, unknown> {
  let image: unknown;
  try {
    image = packr.unpack(data);
  } catch (err) {
    throw new SnapshotFormatError(`not msgpack (${String(err)})`);
  }
  if (typeof image !== 'object' || image === null) throw new SnapshotFormatError('not a map');
  const record = image as Record<string, unknown>;
  if (record.format !== SNAPSHOT_FORMAT) throw new SnapshotFormatError(`format is ${String(record.format)}, expected ${SNAPSHOT_FORMAT}`);
  if (record.version !== SNAPSHOT_VERSION) throw new SnapshotFormatError(`version ${String(record.version)} is not readable (this build reads ${SNAPSHOT_VERSION})`);
  return record;
}

function decodeRepositories(state: ClusterState, value: unknown): void {
  const columns = value as Partial<RepositoryColumns> | null;
  const count = finite(columns?.count, 'repositories.count');
  const ids = fromBytes(Float64Array, columns?.ids, count, 'ids');
  const virtualStorages = fromBytes(Uint32Array, columns?.virtualStorages, count, 'virtualStorages');
  const primaries = fromBytes(Int32Array, columns?.primaries, count, 'primaries');
  const primaryBases = fromBytes(Float64Array, columns?.primaryBases, count, 'primaryBases');
  const replicaCounts = fromBytes(Uint16Array, columns?.replicaCounts, count, 'replicaCounts');
  const pairs = replicaCounts.reduce((sum, n) => sum + n, 0);
  const replicaKeys = fromBytes(Int32Array, columns?.replicaKeys, pairs, 'replicaKeys');
  const replicaGenerations = fromBytes(Float64Array, columns?.replicaGenerations, pairs, 'replicaGenerations');
  const paths = typeof columns?.relativePaths === 'string' && count > 0 ? columns.relativePaths.split('\0') : [];
  if (paths.length !== count) throw new SnapshotFormatError(`${paths.length} relative paths for ${count} repositories`);
  const customPaths = new Map(columns?.customReplicaPaths ?? []);
  const intents = groupIntents(columns?.intents ?? []);
  let p = 0;
  for (let i = 0; i < count; i++) {
    const grown: number[] = [];
    const id = ids[i]!;
    for (let k = 0; k < replicaCounts[i]!; k++, p++) {
      checkStorage(state, replicaKeys[p]! >> 1, id);
      grown.push(replicaKeys[p]!, replicaGenerations[p]!);
    }
    // An exact-size copy: arrays grown by push keep spare slots, 100 bytes a repository (measured).
    const replicas = grown.slice();
    if (state.repository(id) !== undefined) throw new SnapshotFormatError(`repository ${id} appears twice`);
    if (virtualStorages[i]! >= state.virtualStorages.size) throw new SnapshotFormatError(`repository ${id} names unknown virtual storage ${virtualStorages[i]}`);
    checkStorage(state, primaries[i]!, id);
    state.addRepository(new RepositoryRecord(id, virtualStorages[i]!, paths[i]!, customPaths.get(i), primaries[i]!, primaryBases[i]!, replicas, intents.get(i)));
  }
}

function groupIntents(rows: readonly IntentRow[]): Map<number, WriteIntent[]> {
  const byOrdinal = new Map<number, WriteIntent[]>();
  for (const [ordinal, intentId, router, storage, generation, recordedAtMs] of rows) {
    const list = byOrdinal.get(ordinal) ?? [];
    list.push({ intentId, router, storage, generation, recordedAtMs });
    byOrdinal.set(ordinal, list);
  }
  return byOrdinal;
}

function checkStorage(state: ClusterState, storage: number, repositoryId: number): void {
  if (storage !== NO_STORAGE && (storage < 0 || storage >= state.storages.size)) throw new SnapshotFormatError(`repository ${repositoryId} names unknown storage ${storage}`);
}

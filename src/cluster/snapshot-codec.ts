import { Packr } from 'msgpackr';
import { ClusterState } from './cluster-state.js';
import { SnapshotFormatError } from './errors.js';
import { decodeRepositories, encodeRepositories, type RepositoryColumns } from './repository-columns.js';
import { decodeHeader, encodeHeader, finite, type StateHeader } from './state-header-codec.js';

/**
 * The snapshot image: one msgpack map, versioned, holding the applied index,
 * the state header (cluster time, settings, interned names, routers) and the
 * repositories in columns (repository-columns.ts).
 */
export const SNAPSHOT_FORMAT = 'praefect-cluster-state';
export const SNAPSHOT_VERSION = 1;

const packr = new Packr({ useRecords: false });

/**
 * msgpackr packs into one buffer shared by every Packr and keeps it for the
 * next pack. Left to grow by doubling, a 140 MB image would leave a ~350 MB
 * buffer behind for the router's life (measured). So the image is packed into
 * a buffer sized for it up front, and msgpackr is handed a small one after.
 */
export function encodeSnapshot(state: ClusterState, index: number): Uint8Array {
  const repositories = encodeRepositories(state);
  const header = encodeHeader(state);
  packr.useBuffer(Buffer.allocUnsafeSlow(estimateBytes(repositories, header)));
  try {
    return packr.pack({ format: SNAPSHOT_FORMAT, version: SNAPSHOT_VERSION, index, ...header, repositories });
  } finally {
    packr.useBuffer(Buffer.allocUnsafeSlow(8192));
  }
}

/**
 * An upper bound of the packed size, so msgpackr never grows the buffer:
 * the raw byte columns, plus three bytes a character for everything else
 * (msgpackr reserves that much before it writes a string).
 */
function estimateBytes(repositories: RepositoryColumns, header: StateHeader): number {
  const { customReplicaPaths, intents, ...columns } = repositories;
  const rawBytes = Object.values(columns).reduce((sum: number, value) => sum + (value instanceof Uint8Array ? value.byteLength + 8 : 16), 0);
  return rawBytes + JSON.stringify([header, customReplicaPaths, intents]).length * 3 + 65_536;
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

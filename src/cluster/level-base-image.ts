import type { ClassicLevel } from 'classic-level';
import { StoredStateError } from './errors.js';

type Db = ClassicLevel<string, Uint8Array>;

/**
 * The base image of the LevelDB layout: a snapshot image stored in chunks
 * under `b/<generation>/<chunk>`. A new base is written under a new
 * generation and only becomes current when the meta record names it, so a
 * crash while writing leaves the old base intact (the orphan chunks are
 * removed at the next open).
 */
export interface BaseImage {
  readonly generation: number;
  readonly chunks: number;
  readonly bytes: number;
}

export const NO_BASE: BaseImage = { generation: 0, chunks: 0, bytes: 0 };
export const BASE_RANGE = { gte: 'b/', lt: 'b0' } as const;

// Small enough that reading a base back (one chunk at a time, into one
// buffer) holds little beyond the image itself; big values read through
// LevelDB leave the allocator holding several times their size.
const CHUNK_BYTES = 1024 * 1024;

function chunkKey(generation: number, chunk: number): string {
  return `b/${String(generation).padStart(10, '0')}/${String(chunk).padStart(6, '0')}`;
}

export async function writeBase(db: Db, generation: number, image: Uint8Array): Promise<BaseImage> {
  let chunks = 0;
  for (let offset = 0; offset < image.byteLength; offset += CHUNK_BYTES, chunks++) {
    await db.put(chunkKey(generation, chunks), image.subarray(offset, offset + CHUNK_BYTES), { sync: false });
  }
  return { generation, chunks, bytes: image.byteLength };
}

export async function readBase(db: Db, base: BaseImage): Promise<Uint8Array> {
  const image = new Uint8Array(base.bytes);
  let offset = 0;
  for (let chunk = 0; chunk < base.chunks; chunk++) {
    const part = await db.get(chunkKey(base.generation, chunk));
    if (part === undefined || offset + part.byteLength > base.bytes) throw new StoredStateError(`chunk ${chunk} of base image ${base.generation} is missing or too long`);
    image.set(part, offset);
    offset += part.byteLength;
  }
  if (offset !== base.bytes) throw new StoredStateError(`base image ${base.generation} holds ${offset} bytes, its meta says ${base.bytes}`);
  return image;
}

/** Keys of chunks that belong to any base but `keep`. */
export async function otherBaseKeys(db: Db, keep: BaseImage): Promise<string[]> {
  const prefix = `b/${String(keep.generation).padStart(10, '0')}/`;
  const keys: string[] = [];
  for await (const key of db.keys(BASE_RANGE)) if (!key.startsWith(prefix) || keep.chunks === 0) keys.push(key);
  return keys;
}

import { Packr } from 'msgpackr';
import { StoredStateError } from './errors.js';
import { ownString } from './own-string.js';
import { RepositoryRecord, type WriteIntent } from './repository-record.js';

/**
 * One repository as a LevelDB value: a msgpack array of its fields, storage
 * names as the interned ids of the meta record. Versioned by its first item.
 */
const RECORD_VERSION = 1;
const packr = new Packr({ useRecords: false });

type IntentRow = [intentId: string, router: string, storage: number, generation: number, recordedAtMs: number];

export function encodeRecord(record: RepositoryRecord): Uint8Array {
  const intents = record.intents?.map((i): IntentRow => [i.intentId, i.router, i.storage, i.generation, i.recordedAtMs]) ?? null;
  return packr.pack([RECORD_VERSION, record.virtualStorage, record.relativePath, record.customReplicaPath ?? null, record.primary, record.primaryBase, record.replicas, intents]);
}

export function decodeRecord(id: number, bytes: Uint8Array): RepositoryRecord {
  const row = packr.unpack(bytes) as unknown;
  if (!Array.isArray(row) || row[0] !== RECORD_VERSION || row.length !== 8) throw new StoredStateError(`repository ${id} is stored in an unknown format`);
  const [, virtualStorage, relativePath, customReplicaPath, primary, primaryBase, replicas, intents] = row as unknown[];
  const numbers = [virtualStorage, primary, primaryBase].every((n) => typeof n === 'number');
  const pairs = Array.isArray(replicas) && replicas.length % 2 === 0 && replicas.every((n) => typeof n === 'number');
  if (!numbers || !pairs || typeof relativePath !== 'string') throw new StoredStateError(`repository ${id} is stored malformed`);
  return new RepositoryRecord(
    id,
    virtualStorage as number,
    ownString(relativePath),
    typeof customReplicaPath === 'string' ? ownString(customReplicaPath) : undefined,
    primary as number,
    primaryBase as number,
    replicas as number[],
    decodeIntents(id, intents),
  );
}

function decodeIntents(id: number, value: unknown): WriteIntent[] | undefined {
  if (value === null) return undefined;
  if (!Array.isArray(value)) throw new StoredStateError(`repository ${id} has malformed write intents`);
  return (value as IntentRow[]).map(([intentId, router, storage, generation, recordedAtMs]) => ({ intentId, router, storage, generation, recordedAtMs }));
}

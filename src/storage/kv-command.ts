import { Packr } from 'msgpackr';

/** A command of the demo key/value state machine, carried as an entry's payload. */
export type KvCommand =
  | { readonly op: 'put'; readonly key: string; readonly value: string }
  | { readonly op: 'get'; readonly key: string };

/** A payload that is not a KvCommand. Applying it yields this error as the result, on every replica alike. */
export class KvCommandError extends Error {
  readonly code = 'KV_BAD_COMMAND';
  constructor(detail: string) {
    super(`bad key/value command: ${detail}`);
  }
}

const packr = new Packr({ useRecords: false });

export function encodeKvCommand(command: KvCommand): Uint8Array {
  return packr.pack(command.op === 'put' ? { op: 'put', key: command.key, value: command.value } : { op: 'get', key: command.key });
}

export function decodeKvCommand(payload: Uint8Array): KvCommand {
  let value: unknown;
  try {
    value = packr.unpack(payload);
  } catch (err) {
    throw new KvCommandError(`not msgpack (${String(err)})`);
  }
  if (typeof value !== 'object' || value === null) throw new KvCommandError('not an object');
  const { op, key, value: data } = value as Record<string, unknown>;
  if (typeof key !== 'string') throw new KvCommandError('key is not a string');
  if (op === 'get') return { op, key };
  if (op !== 'put') throw new KvCommandError(`unknown op ${String(op)}`);
  if (typeof data !== 'string') throw new KvCommandError('value is not a string');
  return { op, key, value: data };
}

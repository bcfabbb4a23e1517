import { SnapshotFormatError } from './errors.js';

/**
 * Typed arrays travel as their raw bytes (msgpack bin), little-endian: far
 * faster than a million msgpack numbers. Decoding copies into a fresh,
 * aligned array because the bin may sit at any offset of the input.
 */
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('cluster snapshots assume a little-endian machine');

type TypedArrayClass<T> = { new (length: number): T; readonly BYTES_PER_ELEMENT: number };

export function toBytes(array: ArrayBufferView): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

export function fromBytes<T extends ArrayBufferView>(kind: TypedArrayClass<T>, value: unknown, length: number, field: string): T {
  if (!(value instanceof Uint8Array)) throw new SnapshotFormatError(`${field} is not bytes`);
  if (value.byteLength !== length * kind.BYTES_PER_ELEMENT) {
    throw new SnapshotFormatError(`${field} holds ${value.byteLength} bytes, expected ${length * kind.BYTES_PER_ELEMENT}`);
  }
  const array = new kind(length);
  new Uint8Array(array.buffer).set(value);
  return array;
}

// Finding and replacing one length-delimited field in protobuf wire bytes,
// without decoding the rest. Fields we do not look at keep their exact bytes,
// unknown fields included.
import protobuf from 'protobufjs';
import { InvalidRequestError } from './errors.js';

const LENGTH_DELIMITED = 2;

/** Where a length-delimited field sits: its length prefix starts at `lengthStart`. */
export interface FieldSpan {
  lengthStart: number;
  valueStart: number;
  valueEnd: number;
}

/**
 * The one occurrence of `fieldNumber` in `bytes`, or undefined. `field` names
 * it in errors; `container` names the message being scanned. A second
 * occurrence is refused: protobuf would merge them, and the node must see
 * exactly the repository we routed.
 */
export function findField(bytes: Uint8Array, fieldNumber: number, field: string, container: string): FieldSpan | undefined {
  const reader = protobuf.Reader.create(bytes);
  let found: FieldSpan | undefined;
  try {
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      const wireType = tag & 7;
      if (tag >>> 3 !== fieldNumber) {
        reader.skipType(wireType);
        continue;
      }
      if (wireType !== LENGTH_DELIMITED) throw new InvalidRequestError(field, `wire type ${wireType} where a message or string belongs`);
      if (found !== undefined) throw new InvalidRequestError(field, 'given more than once');
      found = readSpan(reader);
    }
  } catch (error) {
    if (error instanceof InvalidRequestError) throw error;
    throw new InvalidRequestError(container, `malformed protobuf message (${error instanceof Error ? error.message : String(error)})`);
  }
  return found;
}

function readSpan(reader: protobuf.Reader): FieldSpan {
  const lengthStart = reader.pos;
  const length = reader.uint32();
  const valueStart = reader.pos;
  reader.skip(length);
  return { lengthStart, valueStart, valueEnd: valueStart + length };
}

/** `bytes` with the field's value replaced (its length prefix rewritten to match). */
export function spliceField(bytes: Uint8Array, span: FieldSpan, value: Uint8Array): Buffer {
  const length = protobuf.Writer.create().uint32(value.length).finish();
  return Buffer.concat([bytes.subarray(0, span.lengthStart), length, value, bytes.subarray(span.valueEnd)]);
}

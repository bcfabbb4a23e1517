// Conversion between wire bytes and plain objects. One set of options for
// the whole project: snake_case field names as in the .proto files, enums as
// their names, 64-bit integers as numbers (sizes and counts stay far below
// 2^53), bytes as Buffers, absent fields filled with defaults.
import type protobuf from 'protobufjs';

export const TO_OBJECT_OPTIONS: protobuf.IConversionOptions = {
  enums: String,
  longs: Number,
  defaults: true,
  oneofs: true,
};

export interface MessageCodec<T> {
  encode(value: T): Buffer;
  decode(bytes: Buffer): T;
}

export function messageCodec<T>(type: protobuf.Type): MessageCodec<T> {
  return {
    encode(value: T): Buffer {
      const message = type.fromObject(value as Record<string, unknown>);
      const bytes = type.encode(message).finish();
      // Under Node protobufjs already writes into a Buffer; avoid a copy per message.
      return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
    decode(bytes: Buffer): T {
      return type.toObject(type.decode(bytes), TO_OBJECT_OPTIONS) as T;
    },
  };
}

/**
 * Marks a request that could not be decoded. Servers built with
 * `malformedRequests: 'mark'` receive this instead of a failed call, so
 * they can answer INVALID_ARGUMENT (grpc-js itself would answer INTERNAL).
 */
export interface MalformedMessage {
  readonly malformed: string;
}

const MALFORMED_TAG = Symbol('malformed protobuf message');

export function markMalformed(reason: string): MalformedMessage {
  return Object.assign(Object.create(null) as object, { malformed: reason, [MALFORMED_TAG]: true });
}

export function isMalformed(value: unknown): value is MalformedMessage {
  return typeof value === 'object' && value !== null && MALFORMED_TAG in value;
}

// gRPC's length-prefixed messages inside HTTP/2 DATA: a flag byte
// (compressed or not), a 4-byte big-endian length, the bytes. The frame-level
// transport parses only the first message of a call; the rest flows as bytes.
import { inflateSync, gunzipSync } from 'node:zlib';
import { InvalidRequestError, MessageTooLargeError, UnsupportedEncodingError } from './errors.js';

const PREFIX_BYTES = 5;

export interface FirstMessage {
  message: Buffer;
  compressed: boolean;
  /** Bytes after the first message that arrived with it (later messages). */
  rest: Buffer;
}

export function frameMessage(message: Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(PREFIX_BYTES + message.length);
  framed[0] = 0;
  framed.writeUInt32BE(message.length, 1);
  framed.set(message, PREFIX_BYTES);
  return framed;
}

/** Collects DATA chunks until the first message is whole. */
export class FirstMessageCollector {
  private chunks: Buffer[] = [];
  private collected = 0;

  constructor(private readonly maxMessageBytes: number) {}

  /** The first message once it is complete; throws past the size bound. */
  push(chunk: Buffer): FirstMessage | undefined {
    this.chunks.push(chunk);
    this.collected += chunk.length;
    if (this.collected < PREFIX_BYTES) return undefined;
    const bytes = this.chunks.length === 1 ? chunk : Buffer.concat(this.chunks, this.collected);
    this.chunks = [bytes];
    const length = bytes.readUInt32BE(1);
    if (length > this.maxMessageBytes) throw new MessageTooLargeError(length, this.maxMessageBytes);
    if (this.collected < PREFIX_BYTES + length) return undefined;
    const flag = bytes[0] as number;
    if (flag > 1) throw new InvalidRequestError('grpc frame', `unknown message flag ${flag}`);
    return { message: bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + length), compressed: flag === 1, rest: bytes.subarray(PREFIX_BYTES + length) };
  }
}

/** The first message's plain bytes; the client's grpc-encoding says how it was compressed. */
export function plainMessage(first: FirstMessage, encoding: string | undefined, maxMessageBytes: number): Buffer {
  if (!first.compressed) return first.message;
  const options = { maxOutputLength: maxMessageBytes };
  try {
    if (encoding === 'gzip') return gunzipSync(first.message, options);
    if (encoding === 'deflate') return inflateSync(first.message, options);
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new MessageTooLargeError(maxMessageBytes + 1, maxMessageBytes);
    throw new InvalidRequestError('grpc frame', `cannot decompress the first message (${error instanceof Error ? error.message : String(error)})`);
  }
  throw new UnsupportedEncodingError(encoding ?? 'identity');
}

/**
 * Follows message boundaries through a byte stream that starts at one, so
 * the frame-level transport bounds every message as grpc-js would, without
 * copying anything.
 */
export class MessageSizeGuard {
  private prefixBytes = 0;
  private announced = 0;
  private bodyLeft = 0;

  constructor(private readonly maxMessageBytes: number) {}

  /** Throws MessageTooLargeError at the first prefix announcing too long a message. */
  check(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.bodyLeft > 0) {
        const skipped = Math.min(this.bodyLeft, chunk.length - at);
        this.bodyLeft -= skipped;
        at += skipped;
        continue;
      }
      const byte = chunk[at++] as number;
      // Byte 0 is the compression flag; bytes 1-4 the big-endian length.
      if (this.prefixBytes > 0) this.announced = this.announced * 256 + byte;
      if (++this.prefixBytes < PREFIX_BYTES) continue;
      this.bodyLeft = this.announced;
      this.prefixBytes = 0;
      this.announced = 0;
      if (this.bodyLeft > this.maxMessageBytes) throw new MessageTooLargeError(this.bodyLeft, this.maxMessageBytes);
    }
  }
}

// The body of a POST, decompressed when git sent it gzip-encoded, and cut off
// at a byte limit counted after decompression (so a small gzip bomb cannot
// expand without bound). Everything streams: nothing holds a whole body.
import type { IncomingMessage } from 'node:http';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { HttpError } from './http-error.js';

export function openRequestBody(req: IncomingMessage, maxBytes: number): Readable {
  const declared = req.headers['content-length'];
  const encoding = contentEncoding(req.headers['content-encoding']);
  if (encoding === 'identity' && declared !== undefined && Number(declared) > maxBytes) {
    throw new HttpError(413, `the request body is larger than the limit of ${maxBytes} bytes`);
  }
  const limiter = new ByteLimit(maxBytes);
  // pipe() does not forward errors, and pipeline() would destroy the socket
  // before a 413 could be sent; so errors are forwarded by hand.
  req.on('error', (error) => limiter.destroy(error));
  if (encoding === 'identity') return req.pipe(limiter);
  const gunzip = createGunzip();
  gunzip.on('error', (error) => limiter.destroy(new HttpError(400, `the gzip request body is corrupt: ${error.message}`)));
  return req.pipe(gunzip).pipe(limiter);
}

function contentEncoding(header: string | undefined): 'identity' | 'gzip' {
  const value = (header ?? '').trim().toLowerCase();
  if (value === '' || value === 'identity') return 'identity';
  if (value === 'gzip' || value === 'x-gzip') return 'gzip';
  throw new HttpError(415, `unsupported Content-Encoding "${value.replace(/[^\x20-\x7e]/g, '?').slice(0, 32)}"; only gzip is accepted`);
}

/** Passes bytes through and fails with 413 once more than maxBytes went by. */
export class ByteLimit extends Transform {
  private seenBytes = 0;

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seenBytes += chunk.length;
    if (this.seenBytes > this.maxBytes) {
      callback(new HttpError(413, `the request body is larger than the limit of ${this.maxBytes} bytes`));
      return;
    }
    callback(null, chunk);
  }
}

// Copies an HTTP request body into a gRPC request stream: a first message
// with the repository and protocol fields, then one {data} message per body
// chunk, waiting for the call to drain whenever grpc-js buffers too much.
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';

/** Body chunks are at most a socket read; larger ones are split anyway. */
export const MAX_DATA_MESSAGE_BYTES = 256 * 1024;

export async function relayRequest(
  body: Readable,
  call: Writable,
  firstMessage: object,
  signal: AbortSignal,
): Promise<void> {
  await write(call, firstMessage, signal);
  for await (const chunk of body as AsyncIterable<Buffer>) {
    for (let offset = 0; offset < chunk.length; offset += MAX_DATA_MESSAGE_BYTES) {
      await write(call, { data: chunk.subarray(offset, offset + MAX_DATA_MESSAGE_BYTES) }, signal);
    }
  }
  signal.throwIfAborted();
  call.end();
}

async function write(call: Writable, message: object, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  if (!call.write(message)) await once(call, 'drain', { signal });
}

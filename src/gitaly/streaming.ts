// Moving bytes between git processes and gRPC streams with backpressure in
// both directions: nothing larger than a chunk is held in memory.
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { CancelledError } from './errors.js';

/** Sends a readable stream (e.g. git's stdout) as messages of at most chunkBytes. */
export async function pumpToSink(
  source: AsyncIterable<unknown>,
  chunkBytes: number,
  send: (chunk: Buffer) => Promise<void>,
): Promise<number> {
  let total = 0;
  for await (const piece of source) {
    const buffer = piece as Buffer;
    for (let offset = 0; offset < buffer.length; offset += chunkBytes) {
      const chunk = buffer.subarray(offset, offset + chunkBytes);
      total += chunk.length;
      await send(chunk);
    }
  }
  return total;
}

/** Writes chunks into a writable (e.g. git's stdin), waiting for 'drain', then ends it unless told not to. */
export async function pumpToWritable(chunks: AsyncIterable<Buffer>, target: Writable, signal?: AbortSignal, end = true): Promise<void> {
  // An early exit of the reader (git quits) surfaces through the process status.
  target.on('error', () => undefined);
  for await (const chunk of chunks) {
    if (signal?.aborted === true) throw new CancelledError('call cancelled');
    if (target.destroyed || target.writableEnded) continue;
    if (chunk.length > 0 && !target.write(chunk)) await waitDrain(target);
  }
  if (end && !target.destroyed && !target.writableEnded) target.end();
}

async function waitDrain(target: Writable): Promise<void> {
  const closed = once(target, 'close').then(() => undefined);
  await Promise.race([once(target, 'drain').then(() => undefined), closed]);
}

/** The data fields of a request stream, the first message included. */
export async function* dataOf<T>(first: T | undefined, rest: AsyncIterator<T>, field: (message: T) => Buffer | undefined): AsyncGenerator<Buffer> {
  if (first !== undefined) {
    const data = field(first);
    if (data !== undefined && data.length > 0) yield data;
  }
  while (true) {
    const next = await rest.next();
    if (next.done === true) return;
    const data = field(next.value);
    if (data !== undefined && data.length > 0) yield data;
  }
}

/** The first message of a request stream and an iterator over the rest. */
export async function firstMessage<T>(requests: AsyncIterable<T>): Promise<{ first: T | undefined; rest: AsyncIterator<T> }> {
  const iterator = requests[Symbol.asyncIterator]();
  const head = await iterator.next();
  return { first: head.done === true ? undefined : head.value, rest: iterator };
}

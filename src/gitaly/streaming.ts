// Moving bytes between git processes and gRPC streams with backpressure in
// both directions: nothing larger than a chunk is held in memory.
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { CancelledError } from './errors.js';

/**
 * How much of a git process's output is read ahead while the client is slow
 * to take it. Reading ahead keeps git producing instead of blocking on a
 * full pipe; the bound keeps memory per call small.
 */
export const READ_AHEAD_BYTES = 1024 * 1024;

/** Sends a readable stream (e.g. git's stdout) as messages of at most chunkBytes. */
export async function pumpToSink(source: Readable, chunkBytes: number, send: (chunk: Buffer) => Promise<void>): Promise<number> {
  let total = 0;
  for await (const chunk of readAhead(source, chunkBytes)) {
    total += chunk.length;
    await send(chunk);
  }
  return total;
}

/**
 * The stream's bytes in chunks of at most maxBytes, read ahead of the
 * consumer by up to readAheadBytes (then the source is paused). Chunks are
 * passed on as read, never concatenated: copies cost more in garbage
 * collection than fewer, larger messages would save.
 */
export async function* readAhead(source: Readable, maxBytes: number, readAheadBytes = READ_AHEAD_BYTES): AsyncGenerator<Buffer> {
  const queue = new ChunkQueue();
  let finished = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  const onData = (chunk: Buffer): void => {
    queue.push(chunk);
    if (queue.bytes >= readAheadBytes) source.pause();
    notify();
  };
  const onEnd = (): void => {
    finished = true;
    notify();
  };
  const onError = (error: unknown): void => {
    failure = error;
    onEnd();
  };
  source.on('data', onData);
  source.on('end', onEnd);
  source.on('close', onEnd);
  source.on('error', onError);
  try {
    while (true) {
      if (queue.bytes > 0) {
        const chunk = queue.take(maxBytes);
        if (source.isPaused() && queue.bytes < readAheadBytes) source.resume();
        yield chunk;
        continue;
      }
      if (failure !== undefined) throw failure;
      if (finished) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    source.off('data', onData);
    source.off('end', onEnd);
    source.off('close', onEnd);
    source.off('error', onError);
  }
}

/** Buffers in arrival order, taken out one at a time, split at a bounded size. */
class ChunkQueue {
  private readonly chunks: Buffer[] = [];
  bytes = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.bytes += chunk.length;
  }

  take(maxBytes: number): Buffer {
    const head = this.chunks[0] as Buffer;
    if (head.length <= maxBytes) {
      this.chunks.shift();
      this.bytes -= head.length;
      return head;
    }
    this.chunks[0] = head.subarray(maxBytes);
    this.bytes -= maxBytes;
    return head.subarray(0, maxBytes);
  }
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

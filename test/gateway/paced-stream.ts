// Tools for testing backpressure without timers. A PacedWriter writes a fixed
// number of bytes as fast as its sink accepts them and says when it is
// blocked (waiting for 'drain'); a PacedReader reads only when told. The
// check alternates: while the writer is blocked, the bytes written but not
// yet read must stay under a bound (the buffers in between); then the reader
// takes one small step, and again while the writer stays blocked. A relay
// that ignores backpressure lets the writer run on between its blocked
// moments, further ahead at each step than the step, and the check fails.
import { EventEmitter, once } from 'node:events';
import type { Readable, Writable } from 'node:stream';

export class PacedWriter extends EventEmitter {
  written = 0;
  blocked = false;
  finished = false;

  /** Writes `total` bytes of `chunk`-sized messages made by `message`. */
  async run(sink: Writable, total: number, chunkBytes: number, message: (chunk: Buffer) => unknown, end: () => void): Promise<void> {
    const chunk = Buffer.alloc(chunkBytes, 0x61);
    while (this.written < total) {
      const ok = sink.write(message(chunk));
      this.written += chunk.length;
      if (!ok) {
        this.setBlocked(true);
        await once(sink, 'drain');
        this.setBlocked(false);
      }
    }
    end();
    this.finished = true;
    this.emit('state');
  }

  private setBlocked(blocked: boolean): void {
    this.blocked = blocked;
    if (blocked) this.emit('state');
  }

  /** Resolves when the writer is blocked or finished (at once if it is). */
  async settled(): Promise<void> {
    if (!this.blocked && !this.finished) await once(this, 'state');
  }
}

export class PacedReader {
  received = 0;
  ended = false;
  private target = 0;
  private wake: (() => void) | undefined;

  constructor(
    private readonly source: Readable,
    private readonly size: (chunk: unknown) => number,
  ) {
    source.on('data', (chunk: unknown) => {
      this.received += this.size(chunk);
      if (this.received >= this.target) this.stop();
    });
    source.on('end', () => {
      this.ended = true;
      this.stop();
    });
    source.pause();
  }

  /** Reads at least `bytes` more (or to the end), then pauses. */
  readBytes(bytes: number): Promise<void> {
    if (this.ended) return Promise.resolve();
    this.target = this.received + bytes;
    return new Promise((resolve) => {
      this.wake = resolve;
      this.source.resume();
    });
  }

  readToEnd(): Promise<void> {
    return this.readBytes(Number.POSITIVE_INFINITY);
  }

  private stop(): void {
    this.source.pause();
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

export interface PacedResult {
  /** The most bytes ever written and not yet read, seen while the writer was blocked. */
  maxAheadBytes: number;
  violation: string | undefined;
}

/**
 * `relayHolding` says whether the relay in between is itself waiting on the
 * reader. Without it, the reader steps whenever the writer is blocked; with
 * it, only while the relay holds, and otherwise the writer runs on until its
 * next block. That matters where the writer also blocks on its own transport
 * now and then: a reader stepping at every such block would keep pace with a
 * relay that never holds, and hide it.
 */
export async function checkPaced(
  writer: PacedWriter,
  reader: PacedReader,
  boundBytes: number,
  stepBytes: number,
  relayHolding: () => boolean = () => true,
): Promise<PacedResult> {
  let maxAheadBytes = 0;
  while (true) {
    await writer.settled();
    const ahead = writer.written - reader.received;
    maxAheadBytes = Math.max(maxAheadBytes, ahead);
    if (ahead > boundBytes) {
      return { maxAheadBytes, violation: `the writer got ${ahead} bytes ahead of a paused reader (bound ${boundBytes})` };
    }
    if (writer.finished) break;
    if (relayHolding()) await reader.readBytes(stepBytes);
    else await once(writer, 'state');
  }
  await reader.readToEnd();
  return { maxAheadBytes, violation: undefined };
}

// One direction of one proxied connection: reads from a source socket and
// writes to a sink socket under the direction's current LinkMode. Bytes wait
// in a bounded FIFO (so order holds across mode changes); the FIN waits in the
// same FIFO, because a partition drops it like any other packet.
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { LinkMode } from './link-mode.js';

export interface DirectionCounters {
  receivedBytes: number;
  forwardedBytes: number;
  droppedBytes: number;
}

export type OverflowPolicy = 'pause' | 'drop';

export interface PumpLimits {
  /** Bytes held per direction per connection before the overflow policy applies. */
  readonly maxBufferedBytes: number;
  /** pause: stop reading the source (TCP backpressure, nothing lost); drop: discard and count. */
  readonly overflow: OverflowPolicy;
}

interface Entry {
  /** null is the source's FIN. */
  readonly chunk: Buffer | null;
  readonly arrivedAtMs: number;
}

export class DirectionalPump {
  private readonly queue: Entry[] = [];
  private head = 0;
  private queuedBytes = 0;
  private sink: Socket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private waitingDrain = false;
  private sourcePaused = false;
  private finished = false;

  constructor(
    private readonly source: Socket,
    private readonly mode: () => LinkMode,
    private readonly limits: PumpLimits,
    private readonly counters: DirectionCounters,
  ) {
    source.on('data', (chunk: Buffer) => this.push(chunk));
    source.on('end', () => this.enqueue({ chunk: null, arrivedAtMs: performance.now() }));
  }

  get bufferedBytes(): number {
    return this.queuedBytes;
  }

  /** The sink may come later (the upstream socket is dialled only once the link lets a handshake through). */
  attachSink(sink: Socket): void {
    this.sink = sink;
    this.flush();
  }

  /** Stop for good: the sink is gone, so whatever waits is lost. */
  dispose(): void {
    this.finished = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.counters.droppedBytes += this.queuedBytes;
    this.queue.length = 0;
    this.head = 0;
    this.queuedBytes = 0;
  }

  private push(chunk: Buffer): void {
    this.counters.receivedBytes += chunk.length;
    if (this.finished || (this.limits.overflow === 'drop' && this.queuedBytes + chunk.length > this.limits.maxBufferedBytes)) {
      this.counters.droppedBytes += chunk.length;
      return;
    }
    this.enqueue({ chunk, arrivedAtMs: performance.now() });
    if (this.queuedBytes >= this.limits.maxBufferedBytes && !this.sourcePaused) {
      this.sourcePaused = true;
      this.source.pause();
    }
  }

  private enqueue(entry: Entry): void {
    if (this.finished) return;
    this.queue.push(entry);
    this.queuedBytes += entry.chunk?.length ?? 0;
    this.flush();
  }

  /** Deliver what the current mode allows; call again whenever the mode changes. */
  flush(): void {
    if (this.finished || !this.sink || this.waitingDrain) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    while (this.head < this.queue.length) {
      const entry = this.queue[this.head] as Entry;
      const mode = this.mode();
      if (mode.kind === 'blackhole' || mode.kind === 'reset') break;
      if (mode.kind === 'delay') {
        const waitMs = entry.arrivedAtMs + mode.delayMs - performance.now();
        if (waitMs > 0) {
          // Timers may fire a fraction early against performance.now(); the re-check keeps the bound.
          this.timer = setTimeout(() => this.flush(), Math.ceil(waitMs));
          break;
        }
      }
      this.head++;
      if (!this.deliver(entry)) break;
    }
    this.compact();
    if (this.sourcePaused && this.queuedBytes < this.limits.maxBufferedBytes / 2) {
      this.sourcePaused = false;
      this.source.resume();
    }
  }

  /** false when delivery must stop: the sink wants a drain, or the FIN went out. */
  private deliver(entry: Entry): boolean {
    const sink = this.sink as Socket;
    if (entry.chunk === null) {
      this.finished = true;
      sink.end();
      return false;
    }
    this.queuedBytes -= entry.chunk.length;
    this.counters.forwardedBytes += entry.chunk.length;
    if (sink.write(entry.chunk)) return true;
    this.waitingDrain = true;
    sink.once('drain', () => {
      this.waitingDrain = false;
      this.flush();
    });
    return false;
  }

  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }
}

// Bounds how much runs at once. Callers beyond the limit wait in a bounded
// queue for a bounded time; past either bound they are refused with
// RESOURCE_EXHAUSTED instead of piling up.
import { CancelledError, ResourceExhaustedError } from './errors.js';

export type Release = () => void;

interface Waiter {
  grant: (release: Release) => void;
  fail: (error: Error) => void;
}

export class Semaphore {
  private running = 0;
  private readonly queue: Waiter[] = [];

  constructor(
    private readonly name: string,
    private readonly maxRunning: number,
    private readonly maxQueued: number,
    private readonly queueTimeoutMs: number,
  ) {}

  get inProgress(): number {
    return this.running;
  }

  get queued(): number {
    return this.queue.length;
  }

  acquire(signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted === true) return Promise.reject(new CancelledError('call cancelled'));
    if (this.running < this.maxRunning) {
      this.running++;
      return Promise.resolve(this.releaser());
    }
    if (this.queue.length >= this.maxQueued) {
      return Promise.reject(new ResourceExhaustedError(`${this.name}: maximum queue size reached`));
    }
    return this.enqueue(signal);
  }

  private enqueue(signal: AbortSignal | undefined): Promise<Release> {
    return new Promise<Release>((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const index = this.queue.indexOf(waiter);
        if (index >= 0) this.queue.splice(index, 1);
      };
      const waiter: Waiter = {
        grant: (release) => {
          cleanup();
          resolve(release);
        },
        fail: (error) => {
          cleanup();
          reject(error);
        },
      };
      const timer = setTimeout(
        () => waiter.fail(new ResourceExhaustedError(`${this.name}: maximum time in concurrency queue reached`)),
        this.queueTimeoutMs,
      );
      const onAbort = (): void => waiter.fail(new CancelledError('call cancelled while queued'));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
    });
  }

  private releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.queue[0];
      // The slot passes straight to the next waiter, so running stays put.
      if (next !== undefined) next.grant(this.releaser());
      else this.running--;
    };
  }
}

// Admission to the bounded pool. pg.Pool has one timeout for both "wait for a
// free connection" and "open a new connection", so a stalled server and a busy
// pool would look alike. Counting permits here keeps the two apart: running out
// of permits is PoolExhaustedError, a connect that hangs is an outage.
import { DatabaseUnavailableError, PoolExhaustedError } from './errors.js';

interface Waiter {
  grant: () => void;
  refuse: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class ConnectionPermits {
  private inUse = 0;
  /** Oldest first, so a burst cannot starve an early caller. */
  private readonly waiters: Waiter[] = [];
  private closed = false;

  constructor(
    readonly limit: number,
    private readonly waitBoundMs: number,
  ) {}

  get active(): number {
    return this.inUse;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  acquire(): Promise<void> {
    if (this.closed) return Promise.reject(new DatabaseUnavailableError('the pool is closed'));
    if (this.inUse < this.limit) {
      this.inUse += 1;
      return Promise.resolve();
    }
    return this.enqueue();
  }

  release(): void {
    const next = this.waiters.shift();
    if (next === undefined) {
      this.inUse -= 1;
      return;
    }
    // The permit passes straight to the next waiter; inUse stays the same.
    clearTimeout(next.timer);
    next.grant();
  }

  close(): void {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.refuse(new DatabaseUnavailableError('the pool is closed'));
    }
  }

  private enqueue(): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: resolve,
        refuse: reject,
        timer: setTimeout(() => this.expire(waiter), this.waitBoundMs),
      };
      this.waiters.push(waiter);
    });
  }

  private expire(waiter: Waiter): void {
    const index = this.waiters.indexOf(waiter);
    if (index === -1) return;
    this.waiters.splice(index, 1);
    waiter.refuse(new PoolExhaustedError(this.limit, this.waitBoundMs));
  }
}

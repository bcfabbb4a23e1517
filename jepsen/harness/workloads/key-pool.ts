// Keys (repositories) in rotation: a few are live at a time, each takes a
// bounded number of operations and is then retired for a fresh repository,
// so every key's history stays short enough for the linearizability search.
// Spare repositories are made ahead in the background, so rotation goes on
// while creation fails (PostgreSQL down) and workers rarely wait on a setup.
import type { Prng } from '../../net/index.js';

export interface LiveKey<S> {
  readonly key: string;
  readonly setup: S;
  remaining: number;
}

export interface KeyPoolOptions<S> {
  readonly prefix: string;
  readonly liveKeys: number;
  readonly opsPerKey: number;
  /** Made-ahead repositories to keep; default 0. */
  readonly spareKeys?: number;
  /** Makes the repository behind a fresh key; throws when it cannot (the key is dropped). */
  readonly create: (key: string, rng: Prng) => Promise<S>;
  /** Notes about keys that could not be made. */
  readonly onSetupFailure?: (key: string, error: unknown) => void;
}

export class KeyPool<S> {
  private readonly live: LiveKey<S>[] = [];
  private readonly spares: { key: string; setup: S }[] = [];
  private readonly used: string[] = [];
  private readonly all = new Map<string, S>();
  private creating = 0;
  private counter = 0;

  constructor(private readonly options: KeyPoolOptions<S>) {}

  /** A live key with operations left, taking one of them. Waits for a setup only when no key is live. */
  async take(rng: Prng): Promise<LiveKey<S> | undefined> {
    this.promoteSpares();
    if (this.live.length + this.spares.length + this.creating < this.options.liveKeys + (this.options.spareKeys ?? 0)) {
      const made = this.createOne(rng);
      if (this.live.length === 0) await made;
      this.promoteSpares();
    }
    if (this.live.length === 0) return undefined;
    const entry = rng.pick(this.live);
    entry.remaining--;
    if (entry.remaining <= 0) this.live.splice(this.live.indexOf(entry), 1);
    return entry;
  }

  /** Keys that went live, in order. */
  keys(): string[] {
    return [...this.used];
  }

  setupOf(key: string): S | undefined {
    return this.all.get(key);
  }

  private promoteSpares(): void {
    while (this.live.length < this.options.liveKeys) {
      const spare = this.spares.shift();
      if (spare === undefined) return;
      this.used.push(spare.key);
      this.live.push({ ...spare, remaining: this.options.opsPerKey });
    }
  }

  private async createOne(rng: Prng): Promise<void> {
    const key = `${this.options.prefix}-${++this.counter}.git`;
    this.creating++;
    try {
      const setup = await this.options.create(key, rng);
      this.all.set(key, setup);
      this.spares.push({ key, setup });
    } catch (error) {
      this.options.onSetupFailure?.(key, error);
    } finally {
      this.creating--;
    }
  }
}

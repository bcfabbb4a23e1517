// Keys (repositories) in rotation: a few are live at a time, each takes a
// bounded number of operations and is then retired for a fresh repository,
// so every key's history stays short enough for the linearizability search.
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
  /** Makes the repository behind a fresh key; throws when it cannot (the key is dropped). */
  readonly create: (key: string, rng: Prng) => Promise<S>;
  /** Notes about keys that could not be made. */
  readonly onSetupFailure?: (key: string, error: unknown) => void;
}

export class KeyPool<S> {
  private readonly live: LiveKey<S>[] = [];
  private readonly used: string[] = [];
  private creating = 0;
  private counter = 0;

  constructor(private readonly options: KeyPoolOptions<S>) {}

  /** A live key with operations left, taking one of them; may first make a fresh key. */
  async take(rng: Prng): Promise<LiveKey<S> | undefined> {
    if (this.live.length + this.creating < this.options.liveKeys) await this.createOne(rng);
    if (this.live.length === 0) return undefined;
    const entry = rng.pick(this.live);
    entry.remaining--;
    if (entry.remaining <= 0) this.live.splice(this.live.indexOf(entry), 1);
    return entry;
  }

  keys(): string[] {
    return [...this.used];
  }

  setupOf(key: string): S | undefined {
    return this.all.get(key);
  }

  private readonly all = new Map<string, S>();

  private async createOne(rng: Prng): Promise<void> {
    const key = `${this.options.prefix}-${++this.counter}.git`;
    this.creating++;
    try {
      const setup = await this.options.create(key, rng);
      this.all.set(key, setup);
      this.used.push(key);
      this.live.push({ key, setup, remaining: this.options.opsPerKey });
    } catch (error) {
      this.options.onSetupFailure?.(key, error);
    } finally {
      this.creating--;
    }
  }
}

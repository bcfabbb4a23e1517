import { invariant } from './errors.js';

/**
 * The append messages in flight to one follower, as the last index each
 * carried. Bounded in count and bytes: when full, the leader stops sending
 * until acknowledgements free room.
 */
export class Inflights {
  private readonly lastIndexes: number[] = [];
  private readonly sizesBytes: number[] = [];
  private totalBytes = 0;

  constructor(
    readonly maxCount: number,
    readonly maxBytes: number,
  ) {
    invariant(maxCount > 0, () => `maxInflightMsgs must be positive, got ${maxCount}`);
  }

  add(lastIndex: number, sizeBytes: number): void {
    invariant(!this.full(), () => 'add() on full inflights');
    const previous = this.lastIndexes[this.lastIndexes.length - 1];
    invariant(previous === undefined || lastIndex > previous, () => `inflight ${lastIndex} not after ${previous}`);
    this.lastIndexes.push(lastIndex);
    this.sizesBytes.push(sizeBytes);
    this.totalBytes += sizeBytes;
  }

  /** Frees every message whose last index is at or below `index`. */
  freeLE(index: number): void {
    let n = 0;
    while (n < this.lastIndexes.length && (this.lastIndexes[n] ?? Infinity) <= index) {
      this.totalBytes -= this.sizesBytes[n] ?? 0;
      n++;
    }
    this.lastIndexes.splice(0, n);
    this.sizesBytes.splice(0, n);
  }

  freeFirstOne(): void {
    const first = this.lastIndexes[0];
    if (first !== undefined) this.freeLE(first);
  }

  full(): boolean {
    return this.lastIndexes.length >= this.maxCount || (this.maxBytes > 0 && this.totalBytes >= this.maxBytes);
  }

  count(): number {
    return this.lastIndexes.length;
  }

  reset(): void {
    this.lastIndexes.length = 0;
    this.sizesBytes.length = 0;
    this.totalBytes = 0;
  }
}

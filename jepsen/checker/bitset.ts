/** A fixed-size set of small integers: which operations are linearized so far. */
export class Bitset {
  readonly words: Uint32Array;
  /**
   * An order-free hash kept up to date by set and clear (the XOR of a mix of
   * each member), so hashing is O(1) however many operations a key has.
   */
  hash = 0;

  constructor(size: number) {
    this.words = new Uint32Array(Math.ceil(size / 32));
  }

  set(bit: number): void {
    const word = bit >>> 5;
    const mask = 1 << (bit & 31);
    if ((this.words[word]! & mask) !== 0) return;
    this.words[word]! |= mask;
    this.hash ^= memberHash(bit);
  }

  clear(bit: number): void {
    const word = bit >>> 5;
    const mask = 1 << (bit & 31);
    if ((this.words[word]! & mask) === 0) return;
    this.words[word]! &= ~mask;
    this.hash ^= memberHash(bit);
  }

  equals(other: Uint32Array): boolean {
    for (let i = 0; i < this.words.length; i++) if (this.words[i] !== other[i]) return false;
    return true;
  }
}

/** A 32-bit finalizer (murmur3's fmix32) so nearby members spread over all bits. */
function memberHash(bit: number): number {
  let h = (bit + 0x9e3779b9) | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

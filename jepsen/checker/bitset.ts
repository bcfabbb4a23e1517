import { mixHash } from './canonical-json.js';

/** A fixed-size set of small integers: which operations are linearized so far. */
export class Bitset {
  readonly words: Uint32Array;

  constructor(size: number) {
    this.words = new Uint32Array(Math.ceil(size / 32));
  }

  set(bit: number): void {
    this.words[bit >>> 5]! |= 1 << (bit & 31);
  }

  clear(bit: number): void {
    this.words[bit >>> 5]! &= ~(1 << (bit & 31));
  }

  hash(): number {
    let hash = 0x811c9dc5;
    for (let i = 0; i < this.words.length; i++) hash = mixHash(hash, this.words[i]!);
    return hash;
  }

  equals(other: Uint32Array): boolean {
    for (let i = 0; i < this.words.length; i++) if (this.words[i] !== other[i]) return false;
    return true;
  }
}

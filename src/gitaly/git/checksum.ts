// Gitaly's repository checksum: the XOR of SHA-1("<oid> <refname>") over the
// lines of `git show-ref --head` that name HEAD or a ref under the prefixes
// below. The XOR makes it independent of order. The result is printed as a
// big integer would be: leading zero bytes dropped, all zeros when empty.
import { createHash } from 'node:crypto';

export const ZERO_CHECKSUM = '0000000000000000000000000000000000000000';

// Unanchored on purpose: upstream matches it anywhere in the line.
const COUNTED_REFS = /HEAD|(refs\/(heads|tags|keep-around|merge-requests|environments|notes)\/)/;

export class RefChecksum {
  private readonly sum = Buffer.alloc(20);

  /** One line of `git show-ref --head` output, without its newline. */
  addLine(line: Buffer): void {
    if (!COUNTED_REFS.test(line.toString('latin1'))) return;
    const digest = createHash('sha1').update(line).digest();
    for (let i = 0; i < this.sum.length; i++) this.sum[i] = (this.sum[i] ?? 0) ^ (digest[i] ?? 0);
  }

  isZero(): boolean {
    return this.sum.every((byte) => byte === 0);
  }

  toString(): string {
    if (this.isZero()) return ZERO_CHECKSUM;
    const first = this.sum.findIndex((byte) => byte !== 0);
    return this.sum.subarray(first).toString('hex');
  }
}

export function checksumOfShowRef(output: Buffer): string {
  const checksum = new RefChecksum();
  let start = 0;
  while (start < output.length) {
    let end = output.indexOf(0x0a, start);
    if (end < 0) end = output.length;
    if (end > start) checksum.addLine(output.subarray(start, end));
    start = end + 1;
  }
  return checksum.toString();
}

// What a node votes on: the SHA-1 of the lines git's reference-transaction
// hook reads on stdin ("<old-oid> <new-oid> <ref>\n" per update), as
// upstream Gitaly hashes them. Every node doing the same change hashes the
// same bytes.
import { createHash } from 'node:crypto';

export function refUpdatesHash(changes: Buffer): Buffer {
  return createHash('sha1').update(changes).digest();
}

/**
 * When git deletes a reference that is both loose and packed, it first runs
 * a separate transaction that force-deletes the packed copies: every line
 * has zero old and new object ids. How refs are packed differs between
 * replicas, so such a transaction is not voted on (as upstream); the
 * transaction on the loose refs that follows carries every update.
 */
export function isForceDeletionsOnly(changes: Buffer): boolean {
  const lines = changes.toString('utf8').split('\n').filter((line) => line.length > 0);
  if (lines.length === 0) return false;
  return lines.every((line) => {
    const [oldOid = '', newOid = ''] = line.split(' ');
    return isZeroOid(oldOid) && isZeroOid(newOid);
  });
}

function isZeroOid(oid: string): boolean {
  return (oid.length === 40 || oid.length === 64) && /^0+$/.test(oid);
}

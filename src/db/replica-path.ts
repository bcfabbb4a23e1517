// Where a repository's replicas live on the storage nodes, derived from its id
// as upstream Praefect does (internal/gitaly/storage/repository_path.go):
// @cluster/repositories/<b0>/<b1>/<id>, where b0 and b1 are the first two bytes
// of SHA-256 over the decimal id, each as two lowercase hex digits. Hashing
// spreads repositories evenly over 65,536 folders; using the decimal text lets
// operators derive the path with `printf %s <id> | sha256sum`.
// Object pools made by Rails get @cluster/pools/... so Gitaly never prunes them.
import { createHash } from 'node:crypto';

const REPOSITORIES_PREFIX = '@cluster/repositories';
const POOLS_PREFIX = '@cluster/pools';

/** Rails names object pools @pools/<h0>/<h1>/<64 hex>.git, the hex starting with h0 h1. */
const RAILS_POOL = /^@pools\/([0-9a-f]{2})\/([0-9a-f]{2})\/([0-9a-f]{64})\.git$/;

function hashedPath(prefix: string, repositoryId: number): string {
  if (!Number.isSafeInteger(repositoryId) || repositoryId < 1) {
    throw new RangeError(`a repository id is a positive integer, got ${repositoryId}`);
  }
  const digest = createHash('sha256').update(String(repositoryId)).digest('hex');
  return `${prefix}/${digest.slice(0, 2)}/${digest.slice(2, 4)}/${repositoryId}`;
}

export function deriveReplicaPath(repositoryId: number): string {
  return hashedPath(REPOSITORIES_PREFIX, repositoryId);
}

export function derivePoolPath(repositoryId: number): string {
  return hashedPath(POOLS_PREFIX, repositoryId);
}

export function isRailsPoolPath(relativePath: string): boolean {
  const match = RAILS_POOL.exec(relativePath);
  return match !== null && (match[3] ?? '').startsWith(`${match[1]}${match[2]}`);
}

/** The replica path a new repository gets: a pool path for Rails object pools. */
export function replicaPathFor(repositoryId: number, relativePath: string): string {
  return isRailsPoolPath(relativePath) ? derivePoolPath(repositoryId) : deriveReplicaPath(repositoryId);
}

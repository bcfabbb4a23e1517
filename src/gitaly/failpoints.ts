// The storage node's failpoints (see src/failpoints), for tests of reference
// transactions through real processes:
//   GITALY_FAILPOINTS="vote=corrupt"  votes a hash no other replica votes (a dissenting secondary)
//   GITALY_FAILPOINTS="vote=kill"     dies by SIGKILL when its reference update is about to be voted
import { crashNow, parseFailpoints } from '../failpoints/index.js';

export const GITALY_FAILPOINTS_ENV = 'GITALY_FAILPOINTS';
const KNOWN = { vote: ['corrupt', 'kill'] } as const;

export type VoteFailpoint = 'corrupt' | 'kill';

export function voteFailpoint(value = process.env[GITALY_FAILPOINTS_ENV]): VoteFailpoint | undefined {
  return parseFailpoints<VoteFailpoint>(GITALY_FAILPOINTS_ENV, value, KNOWN).get('vote');
}

/** The hash this node votes, after its failpoint. */
export function applyVoteFailpoint(point: VoteFailpoint | undefined, hash: Buffer): Buffer {
  if (point === 'kill') crashNow();
  if (point !== 'corrupt') return hash;
  const corrupted = Buffer.from(hash);
  corrupted[0] = (corrupted[0] ?? 0) ^ 0xff;
  return corrupted;
}

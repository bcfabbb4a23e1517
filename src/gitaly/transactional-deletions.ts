// Deletions the node makes itself, made votable. git hands the hook a
// deletion without an expected old value as all zeros on both sides, the
// same shape as the packed-refs clean-up that the hook skips (see
// isForceDeletionsOnly). Inside a transactional call the node therefore
// pins each such deletion to the reference's current value, so the hook
// sees (and votes) what is being deleted.
import { currentGitHookSettings } from './transactional-calls.js';
import type { GitRunner } from './git-runner.js';
import { ZERO_OID } from './git/revision.js';
import type { RefUpdate } from './git/update-ref.js';

export async function pinTransactionalDeletions(git: GitRunner, gitDir: string, updates: readonly RefUpdate[], signal?: AbortSignal): Promise<readonly RefUpdate[]> {
  if (currentGitHookSettings() === undefined) return updates;
  const unpinned = updates.filter((u) => u.newOid === ZERO_OID && u.oldOid === undefined);
  if (unpinned.length === 0) return updates;
  // Full reference names resolve to themselves first; a missing one prints "<name> missing".
  const { stdout } = await git.run({ gitDir, args: ['cat-file', '--batch-check=%(objectname)'], stdin: unpinned.map((u) => `${u.ref}\n`).join(''), signal });
  const current = new Map<string, string>();
  stdout
    .toString('latin1')
    .split('\n')
    .forEach((line, i) => {
      const ref = unpinned[i]?.ref;
      if (ref !== undefined && /^[0-9a-f]{40,64}$/.test(line)) current.set(ref, line);
    });
  return updates.map((u) => (u.newOid === ZERO_OID && u.oldOid === undefined && current.has(u.ref) ? { ...u, oldOid: current.get(u.ref) } : u));
}

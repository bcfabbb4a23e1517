// Moving a branch by compare-and-set.
import { FailedPreconditionError } from '../errors.js';
import { updateRefs } from '../git/update-ref.js';
import type { RepoLocation } from '../locator.js';
import type { NodeContext } from '../node-context.js';

/** A compare-and-set on the branch; a lost race is FAILED_PRECONDITION, as in Gitaly. */
export async function updateBranch(
  node: NodeContext,
  location: RepoLocation,
  ref: string,
  newOid: string,
  oldOid: string,
  signal: AbortSignal,
  describe: (gitMessage: string) => string,
): Promise<void> {
  await updateRefs(node.git, location.path, [{ ref, newOid, oldOid }], {
    env: location.env,
    signal,
    onMismatch: (message) => new FailedPreconditionError(describe(message)),
  });
}

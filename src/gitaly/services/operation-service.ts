// OperationService: branch changes and server-side commits on behalf of a
// user. Every reference change is a compare-and-set through update-ref.
import type * as grpc from '@grpc/grpc-js';
import { FailedPreconditionError, InvalidArgumentError } from '../errors.js';
import { loadCommit } from '../git/commits.js';
import { resolveReference } from '../git/refs.js';
import { branchReference, validateObjectId, validateReferenceName, validateRevision, ZERO_OID } from '../git/revision.js';
import type { RepoLocation } from '../locator.js';
import type { NodeContext } from '../node-context.js';
import { clientStream, unary } from '../rpc-adapters.js';
import type { RepoRequest, UserMsg } from '../wire-types.js';
import { updateBranch } from './branch-update.js';
import { userCommitFiles } from './user-commit-files.js';

interface BranchRequest extends RepoRequest {
  branch_name: Buffer;
  user: UserMsg | null;
}

export function operationService(node: NodeContext): grpc.UntypedServiceImplementation {
  return {
    UserCreateBranch: unary(async (request: BranchRequest & { start_point: Buffer }, ctx) => {
      const { location, ref, name } = await validateBranchRequest(node, request);
      if (request.start_point.length === 0) throw new InvalidArgumentError('empty start point');
      const startPoint = validateRevision(request.start_point.toString('utf8'), 'start point');
      const commit = await loadCommit(node.git, location.path, startPoint, { env: location.env, signal: ctx.signal });
      if (commit === undefined) throw new FailedPreconditionError(`revspec '${startPoint}' not found`);
      await updateBranch(node, location, ref, commit.id, ZERO_OID, ctx.signal, () => `Could not update ${name}. Please refresh and try again.`);
      return { branch: { name: Buffer.from(name), target_commit: commit } };
    }),

    UserUpdateBranch: unary(async (request: BranchRequest & { newrev: Buffer; oldrev: Buffer }, ctx) => {
      const { location, ref, name } = await validateBranchRequest(node, request);
      if (request.newrev.length === 0) throw new InvalidArgumentError('empty newrev');
      if (request.oldrev.length === 0) throw new InvalidArgumentError('empty oldrev');
      const newrev = validateObjectId(request.newrev.toString('utf8'), 'newrev');
      const oldrev = validateObjectId(request.oldrev.toString('utf8'), 'oldrev');
      await updateBranch(node, location, ref, newrev, oldrev, ctx.signal, () => `Could not update ${name}. Please refresh and try again.`);
      return { pre_receive_error: '' };
    }),

    UserDeleteBranch: unary(async (request: BranchRequest & { expected_old_oid: string }, ctx) => {
      const { location, ref, name } = await validateBranchRequest(node, request);
      const current = await resolveReference(node.git, location.path, ref, ctx.signal);
      if (current === undefined) throw new FailedPreconditionError(`branch not found: "${name}"`);
      const expected = request.expected_old_oid.length > 0 ? validateObjectId(request.expected_old_oid, 'expected old object ID') : current;
      await updateBranch(node, location, ref, ZERO_OID, expected, ctx.signal, (m) => `reference update failed: ${m}`);
      return {};
    }),

    UserCommitFiles: clientStream(async (requests: AsyncIterable<UserCommitFilesRequestLike>, ctx) => userCommitFiles(node, requests, ctx)),
  };
}

type UserCommitFilesRequestLike = Parameters<typeof userCommitFiles>[1] extends AsyncIterable<infer T> ? T : never;

async function validateBranchRequest(node: NodeContext, request: BranchRequest): Promise<{ location: RepoLocation; ref: string; name: string }> {
  const location = await node.locator.locateExisting(request.repository);
  if (request.user === null) throw new InvalidArgumentError('empty user');
  const name = request.branch_name.toString('utf8');
  if (name.length === 0) throw new InvalidArgumentError('empty branch name');
  const ref = validateReferenceName(branchReference(name), 'branch');
  return { location, ref, name: name.replace(/^refs\/heads\//, '') };
}

// RefService: reading and changing references.
import type * as grpc from '@grpc/grpc-js';
import { AbortedError, InvalidArgumentError } from '../errors.js';
import { loadCommit, loadCommits, loadTags } from '../git/commits.js';
import { defaultBranch, headTarget, listRefs, resolveReference } from '../git/refs.js';
import { branchReference, isZeroOid, validateObjectId, validateReferenceName, ZERO_OID } from '../git/revision.js';
import { updateRefs, type RefUpdate } from '../git/update-ref.js';
import type { NodeContext } from '../node-context.js';
import { clientStream, serverStream, unary } from '../rpc-adapters.js';
import type { PaginationMsg, RepoRequest } from '../wire-types.js';
import { batches, paginate } from './pagination.js';

const NAMES_PER_MESSAGE = 100;
const BRANCHES_PER_MESSAGE = 20;
const MAX_REFERENCE_UPDATES = 100_000;

type Direction = 'ASCENDING' | 'DESCENDING';

interface UpdateReferencesRequest extends RepoRequest {
  updates: Array<{ reference: Buffer; old_object_id: Buffer; new_object_id: Buffer }>;
}

const LOCAL_BRANCH_SORT: Record<string, string> = { NAME: 'refname', UPDATED_ASC: 'committerdate', UPDATED_DESC: '-committerdate' };
const TAG_SORT: Record<string, string> = { REFNAME: 'refname', CREATORDATE: 'creatordate', VERSION_REFNAME: 'version:refname' };
const LIST_REFS_SORT: Record<string, string> = { REFNAME: 'refname', CREATORDATE: 'creatordate', AUTHORDATE: 'authordate', COMMITTERDATE: 'committerdate' };

function sortKey(table: Record<string, string>, key: string, direction: Direction): string {
  const base = table[key] ?? 'refname';
  return direction === 'DESCENDING' ? `-${base}` : base;
}

export function refService(node: NodeContext): grpc.UntypedServiceImplementation {
  const existing = (request: RepoRequest) => node.locator.locateExisting(request.repository);

  return {
    FindDefaultBranchName: unary(async (request: RepoRequest & { head_only: boolean }, ctx) => {
      const location = await existing(request);
      const name = request.head_only ? await headTarget(node.git, location.path, ctx.signal) : await defaultBranch(node.git, location.path, ctx.signal);
      return { name: Buffer.from(name) };
    }),

    FindAllBranchNames: serverStream(async (request: RepoRequest, sink, ctx) => {
      const location = await existing(request);
      const refs = await listRefs(node.git, location.path, { patterns: ['refs/heads/'], signal: ctx.signal });
      for (const batch of batches(refs, NAMES_PER_MESSAGE)) await sink.write({ names: batch.map((r) => Buffer.from(r.name)) });
    }),

    FindLocalBranches: serverStream(
      async (request: RepoRequest & { sort_by: string; pagination_params: PaginationMsg | null }, sink, ctx) => {
        const location = await existing(request);
        const sort = [LOCAL_BRANCH_SORT[request.sort_by] ?? 'refname'];
        const refs = await listRefs(node.git, location.path, { patterns: ['refs/heads/'], sort, signal: ctx.signal });
        const page = paginate(refs, request.pagination_params, (ref, token) => ref.name === token);
        for (const batch of batches(page, BRANCHES_PER_MESSAGE)) {
          const commits = await loadCommits(node.git, location.path, batch.map((r) => r.oid), { signal: ctx.signal });
          const branches = batch.map((r) => ({ name: Buffer.from(r.name), target_commit: commits.get(r.oid) ?? null }));
          await sink.write({ local_branches: branches });
        }
      },
    ),

    FindAllTags: serverStream(
      async (request: RepoRequest & { sort_by: { key: string; direction: Direction } | null; pagination_params: PaginationMsg | null }, sink, ctx) => {
        const location = await existing(request);
        const sort = request.sort_by === null ? ['refname'] : [sortKey(TAG_SORT, request.sort_by.key, request.sort_by.direction)];
        const refs = await listRefs(node.git, location.path, { patterns: ['refs/tags/'], sort, signal: ctx.signal });
        const page = paginate(refs, request.pagination_params, (ref, token) => ref.name === token || ref.name === `refs/tags/${token}`);
        for (const batch of batches(page, BRANCHES_PER_MESSAGE)) {
          const tags = await loadTags(node.git, location.path, batch.map((r) => ({ ref: r.name, oid: r.oid, peeled: r.peeled })), { signal: ctx.signal });
          await sink.write({ tags });
        }
      },
    ),

    RefExists: unary(async (request: RepoRequest & { ref: Buffer }, ctx) => {
      const location = await existing(request);
      const ref = request.ref.toString('utf8');
      if (!ref.startsWith('refs/')) throw new InvalidArgumentError('invalid refname');
      const { exitCode } = await node.git.run({
        gitDir: location.path,
        args: ['show-ref', '--verify', '--quiet', '--', ref],
        okExitCodes: [0, 1, 128],
        signal: ctx.signal,
      });
      return { value: exitCode === 0 };
    }),

    FindBranch: unary(async (request: RepoRequest & { name: Buffer }, ctx) => {
      const location = await existing(request);
      const name = request.name.toString('utf8');
      if (name.length === 0) throw new InvalidArgumentError('Branch name cannot be empty');
      const ref = branchReference(name);
      if (!(await resolveReference(node.git, location.path, ref, ctx.signal))) return { branch: null };
      const commit = await loadCommit(node.git, location.path, ref, { signal: ctx.signal });
      return { branch: { name: Buffer.from(ref.replace(/^refs\/heads\//, '')), target_commit: commit ?? null } };
    }),

    UpdateReferences: clientStream(async (requests: AsyncIterable<UpdateReferencesRequest>, ctx) => {
      let location;
      const updates: RefUpdate[] = [];
      for await (const request of requests) {
        if (location === undefined) location = await existing(request);
        else if (request.repository !== null) throw new InvalidArgumentError('repository set in subsequent request');
        for (const update of request.updates) {
          if (updates.length >= MAX_REFERENCE_UPDATES) throw new InvalidArgumentError(`more than ${MAX_REFERENCE_UPDATES} updates`);
          updates.push(referenceUpdate(update));
        }
      }
      if (location === undefined) throw new InvalidArgumentError('empty request stream');
      if (updates.length === 0) throw new InvalidArgumentError('no updates specified');
      await updateRefs(node.git, location.path, updates, {
        env: location.env,
        signal: ctx.signal,
        onMismatch: (message) => new AbortedError(`reference state mismatch: ${message}`),
      });
      return {};
    }),

    DeleteRefs: unary(async (request: RepoRequest & { except_with_prefix: Buffer[]; refs: Buffer[] }, ctx) => {
      const location = await existing(request);
      const refs = request.refs.map((r) => r.toString('utf8'));
      const except = request.except_with_prefix.map((p) => p.toString('utf8'));
      if (refs.length > 0 && except.length > 0) throw new InvalidArgumentError('ExceptWithPrefix and Refs are mutually exclusive');
      if (refs.length === 0 && except.length === 0) throw new InvalidArgumentError('empty ExceptWithPrefix and Refs');
      refs.forEach((ref) => validateReferenceName(ref));
      const doomed = refs.length > 0 ? refs : (await listRefs(node.git, location.path, { patterns: ['refs/'], signal: ctx.signal }))
        .map((r) => r.name)
        .filter((name) => !except.some((prefix) => name.startsWith(prefix)));
      await updateRefs(node.git, location.path, doomed.map((ref) => ({ ref, newOid: ZERO_OID })), { env: location.env, signal: ctx.signal });
      return { git_error: '' };
    }),

    ListRefs: serverStream(
      async (
        request: RepoRequest & {
          patterns: Buffer[];
          head: boolean;
          sort_by: { key: string; direction: Direction } | null;
          pointing_at_oids: Buffer[];
          peel_tags: boolean;
        },
        sink,
        ctx,
      ) => {
        const location = await existing(request);
        if (request.patterns.length === 0) throw new InvalidArgumentError('patterns must have at least one entry');
        const patterns = request.patterns.map((p) => p.toString('utf8'));
        const pointsAt = request.pointing_at_oids.map((oid) => validateObjectId(oid.toString('utf8'), 'pointing_at_oids entry'));
        const sort = request.sort_by === null ? ['refname'] : [sortKey(LIST_REFS_SORT, request.sort_by.key, request.sort_by.direction)];
        const refs = await listRefs(node.git, location.path, { patterns, sort, pointsAt, signal: ctx.signal });
        const references = refs.map((r) => ({ name: Buffer.from(r.name), target: r.oid, peeled_target: request.peel_tags ? r.peeled : '' }));
        if (request.head) {
          const head = await resolveReference(node.git, location.path, 'HEAD', ctx.signal);
          if (head !== undefined) references.unshift({ name: Buffer.from('HEAD'), target: head, peeled_target: '' });
        }
        for (const batch of batches(references, NAMES_PER_MESSAGE)) await sink.write({ references: batch });
      },
    ),
  };
}

function referenceUpdate(update: { reference: Buffer; old_object_id: Buffer; new_object_id: Buffer }): RefUpdate {
  const ref = validateReferenceName(update.reference.toString('utf8'));
  const newText = update.new_object_id.toString('utf8');
  const newOid = isZeroOid(newText) ? ZERO_OID : validateObjectId(newText, 'new object ID');
  const oldText = update.old_object_id.toString('utf8');
  if (oldText.length === 0) return { ref, newOid };
  return { ref, newOid, oldOid: isZeroOid(oldText) ? ZERO_OID : validateObjectId(oldText, 'old object ID') };
}

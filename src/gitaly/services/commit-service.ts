// CommitService: reading commits.
import type * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError } from '../errors.js';
import { loadCommit, loadCommits } from '../git/commits.js';
import { validateRevision } from '../git/revision.js';
import type { NodeContext } from '../node-context.js';
import { serverStream, unary } from '../rpc-adapters.js';
import type { CommitTrailerMsg, PaginationMsg, RepoRequest, TimestampMsg } from '../wire-types.js';
import { batches, paginate } from './pagination.js';

const COMMITS_PER_MESSAGE = 20;

interface CountCommitsRequest extends RepoRequest {
  revision: Buffer;
  after: TimestampMsg | null;
  before: TimestampMsg | null;
  path: Buffer;
  max_count: number;
  all: boolean;
  first_parent: boolean;
  global_options: { literal_pathspecs: boolean } | null;
}

interface ListCommitsRequest extends RepoRequest {
  revisions: string[];
  pagination_params: PaginationMsg | null;
  order: 'NONE' | 'TOPO' | 'DATE';
  reverse: boolean;
  max_parents: number;
  disable_walk: boolean;
  first_parent: boolean;
  after: TimestampMsg | null;
  before: TimestampMsg | null;
  author: Buffer;
  ignore_case: boolean;
  commit_message_patterns: Buffer[];
}

export function commitService(node: NodeContext): grpc.UntypedServiceImplementation {
  return {
    FindCommit: unary(async (request: RepoRequest & { revision: Buffer; trailers: boolean }, ctx) => {
      const location = await node.locator.locateExisting(request.repository);
      const revision = validateRevision(request.revision.toString('utf8'));
      const commit = await loadCommit(node.git, location.path, revision, { env: location.env, signal: ctx.signal });
      if (commit === undefined) return { commit: null };
      if (request.trailers) commit.trailers = await readTrailers(node, location.path, commit.id, ctx.signal);
      return { commit };
    }),

    CountCommits: unary(async (request: CountCommitsRequest, ctx) => {
      const location = await node.locator.locateExisting(request.repository);
      const args = ['rev-list', '--count', ...dateArgs(request.after, request.before)];
      if (request.max_count > 0) args.push(`--max-count=${request.max_count}`);
      if (request.first_parent) args.push('--first-parent');
      const revision = request.revision.toString('utf8');
      if (request.all) {
        if (revision.length > 0) throw new InvalidArgumentError('revision and all are mutually exclusive');
        args.push('--all');
      } else {
        args.push(validateRevision(revision));
      }
      args.push('--');
      if (request.path.length > 0) args.push(request.path.toString('utf8'));
      const literal = request.global_options?.literal_pathspecs === true;
      const { stdout, exitCode } = await node.git.run({
        gitDir: location.path,
        args,
        env: { ...location.env, ...(literal ? { GIT_LITERAL_PATHSPECS: '1' } : {}) },
        okExitCodes: [0, 128],
        signal: ctx.signal,
      });
      // An unknown revision counts nothing, as in Gitaly.
      return { count: exitCode === 0 ? Number(stdout.toString('latin1').trim()) : 0 };
    }),

    ListCommits: serverStream(async (request: ListCommitsRequest, sink, ctx) => {
      const location = await node.locator.locateExisting(request.repository);
      const ids = await listCommitIds(node, location.path, location.env, request, ctx.signal);
      const page = paginate(ids, request.pagination_params, (id, token) => id === token);
      for (const batch of batches(page, COMMITS_PER_MESSAGE)) {
        const commits = await loadCommits(node.git, location.path, batch, { env: location.env, signal: ctx.signal });
        await sink.write({ commits: batch.map((id) => commits.get(id)).filter((c) => c !== undefined) });
      }
    }),
  };
}

async function listCommitIds(node: NodeContext, gitDir: string, env: Record<string, string>, request: ListCommitsRequest, signal: AbortSignal): Promise<string[]> {
  if (request.revisions.length === 0) throw new InvalidArgumentError('missing revisions');
  const revisions = request.revisions.map((revision) =>
    revision === '--not' || revision === '--all' ? revision : validateRevision(revision, 'revision'),
  );
  const args = ['rev-list', ...dateArgs(request.after, request.before)];
  if (request.order === 'TOPO') args.push('--topo-order');
  if (request.order === 'DATE') args.push('--date-order');
  if (request.reverse) args.push('--reverse');
  if (request.max_parents > 0) args.push(`--max-parents=${request.max_parents}`);
  if (request.disable_walk) args.push('--no-walk');
  if (request.first_parent) args.push('--first-parent');
  if (request.author.length > 0) args.push(`--author=${request.author.toString('utf8')}`);
  if (request.ignore_case) args.push('--regexp-ignore-case');
  for (const pattern of request.commit_message_patterns) args.push(`--grep=${pattern.toString('utf8')}`);
  args.push(...revisions, '--');
  const { stdout } = await node.git.run({ gitDir, args, env, signal });
  return stdout.toString('latin1').split('\n').filter((line) => line.length > 0);
}

function dateArgs(after: TimestampMsg | null, before: TimestampMsg | null): string[] {
  const args: string[] = [];
  if (after !== null) args.push(`--after=${after.seconds}`);
  if (before !== null) args.push(`--before=${before.seconds}`);
  return args;
}

// git's own trailer parser, so "Key: value" lines match git interpret-trailers.
async function readTrailers(node: NodeContext, gitDir: string, id: string, signal: AbortSignal): Promise<CommitTrailerMsg[]> {
  const { stdout } = await node.git.run({
    gitDir,
    args: ['show', '-s', '--format=%(trailers:only,unfold,separator=%x00,key_value_separator=%x01)', id],
    signal,
  });
  return stdout
    .toString('utf8')
    .replace(/\n$/, '')
    .split('\0')
    .filter((entry) => entry.includes('\u0001'))
    .map((entry) => {
      const [key = '', value = ''] = entry.split('\u0001');
      return { key: Buffer.from(key), value: Buffer.from(value) };
    });
}

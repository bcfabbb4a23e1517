// UserCommitFiles: one commit built from a header and a stream of file
// actions. Content is streamed into `git hash-object -w`, never collected;
// the tree is edited in a temporary index; the branch moves by
// compare-and-set, so concurrent writers cannot lose each other's commits.
import { mkdir } from 'node:fs/promises';
import { FailedPreconditionError, InvalidArgumentError } from '../errors.js';
import { hasBranches, resolveCommit } from '../git/refs.js';
import { branchReference, isObjectId, validateObjectId, validateReferenceName, ZERO_OID } from '../git/revision.js';
import { TreeEditor, validateTreePath, type TreeAction } from '../git/tree-editor.js';
import type { RepoLocation } from '../locator.js';
import type { NodeContext } from '../node-context.js';
import type { CallContext } from '../rpc-adapters.js';
import { firstMessage, pumpToWritable } from '../streaming.js';
import { transactionTimeSec } from '../transaction-metadata.js';
import type { RepositoryMsg, TimestampMsg, UserMsg } from '../wire-types.js';
import { updateBranch } from './branch-update.js';

interface Header {
  repository: RepositoryMsg | null;
  user: UserMsg | null;
  branch_name: Buffer;
  commit_message: Buffer;
  commit_author_name: Buffer;
  commit_author_email: Buffer;
  start_branch_name: Buffer;
  start_repository: RepositoryMsg | null;
  force: boolean;
  start_sha: string;
  timestamp: TimestampMsg | null;
  expected_old_oid: string;
}

interface ActionHeader {
  action: 'CREATE' | 'CREATE_DIR' | 'UPDATE' | 'MOVE' | 'DELETE' | 'CHMOD';
  file_path: Buffer;
  previous_path: Buffer;
  base64_content: boolean;
  execute_filemode: boolean;
  infer_content: boolean;
}

interface Request {
  header?: Header | null;
  action?: { header?: ActionHeader | null; content?: Buffer | null } | null;
}

const MAX_ACTIONS = 10_000;

export async function userCommitFiles(node: NodeContext, requests: AsyncIterable<Request>, ctx: CallContext): Promise<unknown> {
  const { first, rest } = await firstMessage(requests);
  const header = first?.header ?? null;
  if (header === null) throw new InvalidArgumentError('empty UserCommitFilesRequestHeader');
  const location = await validateHeader(node, header);
  const branchRef = branchReference(header.branch_name.toString('utf8'));
  const targetCommit = await resolveCommit(node.git, location.path, branchRef, ctx.signal);
  const parent = await parentCommit(node, location, header, targetCommit, ctx.signal);
  const actions = await readActions(node, location, rest, ctx);
  // Replicas of one transaction must write the same commit: they share the router's clock reading.
  const seconds = header.timestamp?.seconds ?? transactionTimeSec(ctx.metadata) ?? Math.floor(Date.now() / 1000);
  const commitId = await writeCommit(node, location, header, parent, actions, seconds, ctx.signal);
  const repoCreated = !(await hasBranches(node.git, location.path, ctx.signal));
  const oldOid = expectedOld(header, parent, targetCommit);
  await updateBranch(node, location, branchRef, commitId, oldOid, ctx.signal, (m) => `reference update: ${m}`);
  return { branch_update: { commit_id: commitId, repo_created: repoCreated, branch_created: oldOid === ZERO_OID }, index_error: '', pre_receive_error: '' };
}

async function validateHeader(node: NodeContext, header: Header): Promise<RepoLocation> {
  const location = await node.locator.locateExisting(header.repository);
  if (header.user === null) throw new InvalidArgumentError('empty User');
  if (header.branch_name.length === 0) throw new InvalidArgumentError('empty BranchName');
  if (header.commit_message.length === 0) throw new InvalidArgumentError('empty CommitMessage');
  validateReferenceName(branchReference(header.branch_name.toString('utf8')), 'branch');
  const start = header.start_repository;
  if (start !== null && (start.storage_name !== header.repository?.storage_name || start.relative_path !== header.repository.relative_path)) {
    throw new FailedPreconditionError('start_repository other than the target repository is not supported by this storage node');
  }
  return location;
}

async function parentCommit(node: NodeContext, location: RepoLocation, header: Header, targetCommit: string | undefined, signal: AbortSignal): Promise<string | undefined> {
  if (header.start_sha.length > 0) {
    const parent = await resolveCommit(node.git, location.path, validateObjectId(header.start_sha, 'start_sha'), signal);
    if (parent === undefined) throw new InvalidArgumentError(`cannot resolve parent commit: ${header.start_sha}`);
    return parent;
  }
  const startBranch = header.start_branch_name.toString('utf8');
  if (startBranch.length === 0) return targetCommit;
  if (!(await hasBranches(node.git, location.path, signal))) return targetCommit;
  const startRef = validateReferenceName(branchReference(startBranch), 'start branch');
  const parent = await resolveCommit(node.git, location.path, startRef, signal);
  if (parent === undefined) throw new FailedPreconditionError(`start branch not found: "${startBranch}"`);
  return parent;
}

// Gitaly's rules: an explicit expected_old_oid wins; a new branch must not
// exist; force overwrites whatever the branch has; otherwise the branch must
// still be at the parent.
function expectedOld(header: Header, parent: string | undefined, targetCommit: string | undefined): string {
  if (header.expected_old_oid.length > 0) return validateObjectId(header.expected_old_oid, 'expected old object ID');
  if (targetCommit === undefined) return ZERO_OID;
  if (header.force) return targetCommit;
  return parent ?? ZERO_OID;
}

async function readActions(node: NodeContext, location: RepoLocation, rest: AsyncIterator<Request>, ctx: CallContext): Promise<TreeAction[]> {
  const reader = new ActionReader(node, location, ctx);
  try {
    while (true) {
      const next = await rest.next();
      if (next.done === true) break;
      await reader.add(next.value);
    }
    return await reader.finish();
  } catch (error) {
    reader.abandon();
    throw error;
  }
}

/** Pairs each action header with the content that follows it. */
class ActionReader {
  private readonly actions: TreeAction[] = [];
  private pending: ActionHeader | undefined;
  private blob: BlobWriter | undefined;

  constructor(
    private readonly node: NodeContext,
    private readonly location: RepoLocation,
    private readonly ctx: CallContext,
  ) {}

  async add(request: Request): Promise<void> {
    const action = request.action;
    if (action?.header) {
      await this.completePending();
      if (this.actions.length >= MAX_ACTIONS) throw new InvalidArgumentError(`more than ${MAX_ACTIONS} actions`);
      validateTreePath(action.header.file_path.toString('utf8'));
      this.pending = action.header;
      if (needsContent(action.header)) {
        this.blob = await BlobWriter.start(this.node, this.location, action.header.base64_content, this.ctx.signal);
      }
    } else if (action?.content && action.content.length > 0) {
      if (this.pending === undefined) throw new InvalidArgumentError('content sent before action');
      if (this.blob === undefined) throw new InvalidArgumentError(`${this.pending.action} takes no content`);
      await this.blob.write(action.content);
    }
  }

  async finish(): Promise<TreeAction[]> {
    await this.completePending();
    return this.actions;
  }

  /** Stops a half-written blob after an error. */
  abandon(): void {
    this.blob?.kill();
  }

  private async completePending(): Promise<void> {
    if (this.pending === undefined) return;
    this.actions.push(await toTreeAction(this.node, this.location, this.pending, this.blob, this.ctx));
    this.pending = undefined;
    this.blob = undefined;
  }
}

function needsContent(header: ActionHeader): boolean {
  return header.action === 'CREATE' || header.action === 'UPDATE' || (header.action === 'MOVE' && !header.infer_content);
}

async function toTreeAction(node: NodeContext, location: RepoLocation, header: ActionHeader, blob: BlobWriter | undefined, ctx: CallContext): Promise<TreeAction> {
  const filePath = validateTreePath(header.file_path.toString('utf8'));
  const oid = blob === undefined ? undefined : await blob.finish();
  switch (header.action) {
    case 'CREATE':
      return { kind: 'create', path: filePath, oid: oid as string, executable: header.execute_filemode };
    case 'UPDATE':
      return { kind: 'update', path: filePath, oid: oid as string };
    case 'MOVE':
      return { kind: 'move', path: filePath, previousPath: validateTreePath(header.previous_path.toString('utf8'), 'previous path'), oid };
    case 'DELETE':
      return { kind: 'delete', path: filePath };
    case 'CHMOD':
      return { kind: 'chmod', path: filePath, executable: header.execute_filemode };
    case 'CREATE_DIR': {
      const empty = await BlobWriter.start(node, location, false, ctx.signal);
      return { kind: 'createDir', path: filePath, emptyBlobOid: await empty.finish() };
    }
    default:
      throw new InvalidArgumentError(`unknown action ${String(header.action)}`);
  }
}

async function writeCommit(
  node: NodeContext,
  location: RepoLocation,
  header: Header,
  parent: string | undefined,
  actions: TreeAction[],
  seconds: number,
  signal: AbortSignal,
): Promise<string> {
  const tempDir = node.locator.tempDir(location.storageName);
  await mkdir(tempDir, { recursive: true });
  const editor = await TreeEditor.open(node.git, location.path, tempDir, parent, signal);
  let tree: string;
  try {
    for (const action of actions) editor.apply(action);
    tree = await editor.writeTree();
  } finally {
    await editor.close();
  }
  const user = header.user as UserMsg;
  const committerName = user.name.toString('utf8').trim();
  const committerEmail = user.email.toString('utf8').trim();
  const authorName = header.commit_author_name.toString('utf8').trim() || committerName;
  const authorEmail = header.commit_author_email.toString('utf8').trim() || committerEmail;
  if (!authorName || !authorEmail || !committerName || !committerEmail) {
    throw new InvalidArgumentError('commit: failed to parse signature - Signature cannot have an empty name or email');
  }
  const date = `@${seconds} +0000`;
  const args = ['commit-tree', tree, ...(parent === undefined ? [] : ['-p', parent]), '-F', '-'];
  const { stdout } = await node.git.run({
    gitDir: location.path,
    args,
    stdin: header.commit_message,
    env: {
      GIT_AUTHOR_NAME: authorName,
      GIT_AUTHOR_EMAIL: authorEmail,
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_NAME: committerName,
      GIT_COMMITTER_EMAIL: committerEmail,
      GIT_COMMITTER_DATE: date,
    },
    signal,
  });
  const id = stdout.toString('latin1').trim();
  if (!isObjectId(id)) throw new Error(`commit-tree returned "${id}"`);
  return id;
}

/** Streams one file's content into `git hash-object -w --stdin`, decoding base64 on the way. */
class BlobWriter {
  private carry = '';

  private constructor(
    private readonly proc: Awaited<ReturnType<NodeContext['git']['spawn']>>,
    private readonly base64: boolean,
  ) {
    proc.stdin.on('error', () => undefined);
  }

  static async start(node: NodeContext, location: RepoLocation, base64: boolean, signal: AbortSignal): Promise<BlobWriter> {
    const proc = await node.git.spawn({ gitDir: location.path, args: ['hash-object', '-w', '--stdin'], env: location.env, signal });
    return new BlobWriter(proc, base64);
  }

  async write(content: Buffer): Promise<void> {
    await pumpToWritable(this.decoded([content]), this.proc.stdin, undefined, false);
  }

  kill(): void {
    this.proc.kill();
  }

  async finish(): Promise<string> {
    if (this.base64 && this.carry.length > 0) await pumpToWritable(oneChunk(Buffer.from(this.carry, 'base64')), this.proc.stdin, undefined, false);
    this.proc.stdin.end();
    const output: Buffer[] = [];
    for await (const chunk of this.proc.stdout) output.push(chunk as Buffer);
    await this.proc.waitSuccess(['hash-object']);
    return Buffer.concat(output).toString('latin1').trim();
  }

  private async *decoded(chunks: Buffer[]): AsyncGenerator<Buffer> {
    for (const chunk of chunks) {
      if (!this.base64) {
        yield chunk;
        continue;
      }
      // base64 decodes in groups of four characters; keep the remainder.
      const text = this.carry + chunk.toString('latin1').replace(/\s+/g, '');
      const usable = text.length - (text.length % 4);
      this.carry = text.slice(usable);
      yield Buffer.from(text.slice(0, usable), 'base64');
    }
  }
}

async function* oneChunk(chunk: Buffer): AsyncGenerator<Buffer> {
  yield chunk;
}

// The Gitaly RPCs the workloads make through a router, as promise calls with
// a deadline. Plain gRPC clients of our protocol definitions: what any
// Gitaly client would send.
import * as grpc from '@grpc/grpc-js';
import { STALE_READ_HEADER } from './stale-read.js';
import { gitalyClient } from '../../src/gitaly/index.js';

export const COMMIT_USER = { gl_id: 'user-jepsen', name: Buffer.from('Jepsen'), email: Buffer.from('jepsen@example.com'), gl_username: 'jepsen', timezone: 'UTC' };

type AnyMethod = (...args: unknown[]) => unknown;

export interface RepositoryRef {
  storage_name: string;
  relative_path: string;
}

export interface CommitOptions {
  /** The parent, instead of the branch's head. */
  readonly startSha?: string;
  /** Move the branch whatever it points at now. */
  readonly force?: boolean;
  /** Move the branch only from this commit (all zeros: only if it does not exist). */
  readonly expectedOldOid?: string;
}

/** One router's Gitaly services, through whatever address reaches it (a fault proxy). */
export class GitalyCalls {
  private readonly clients = new Map<string, grpc.Client>();

  constructor(
    readonly address: string,
    private readonly token: string,
    private readonly timeoutMs: number,
  ) {}

  createRepository(repository: RepositoryRef): Promise<unknown> {
    return this.unary('/gitaly.RepositoryService/CreateRepository', { repository });
  }

  /** A commit on `branch` adding one file; resolves with the commit id. */
  async commitFile(repository: RepositoryRef, branch: string, file: string, message: string, options: CommitOptions = {}): Promise<string> {
    const header = {
      repository,
      user: COMMIT_USER,
      branch_name: Buffer.from(branch),
      commit_message: Buffer.from(message),
      ...(options.startSha === undefined ? {} : { start_sha: options.startSha }),
      ...(options.force === undefined ? {} : { force: options.force }),
      ...(options.expectedOldOid === undefined ? {} : { expected_old_oid: options.expectedOldOid }),
    };
    const response = await this.clientStream<{ branch_update: { commit_id: string } | null }>('/gitaly.OperationService/UserCommitFiles', [
      { header },
      { action: { header: { action: 'CREATE', file_path: Buffer.from(file) } } },
      { action: { content: Buffer.from(message) } },
    ]);
    if (!response.branch_update?.commit_id) throw new Error('UserCommitFiles answered without a branch update');
    return response.branch_update.commit_id;
  }

  /** Points `ref` at `revision`; with `oldRevision`, only if the ref is there now. */
  async writeRef(repository: RepositoryRef, ref: string, revision: string, oldRevision?: string): Promise<void> {
    await this.unary('/gitaly.RepositoryService/WriteRef', {
      repository,
      ref: Buffer.from(ref),
      revision: Buffer.from(revision),
      ...(oldRevision === undefined ? {} : { old_revision: Buffer.from(oldRevision) }),
    });
  }

  /** The commit a branch points at (id and subject), or null when there is no such branch; `stale` when the router said so. */
  async findBranch(repository: RepositoryRef, branch: string): Promise<{ commit: { id: string; subject: string } | null; stale: boolean }> {
    const { response, stale } = await this.unaryRead<{ branch: { target_commit: { id: string; subject: Buffer } | null } | null }>('/gitaly.RefService/FindBranch', {
      repository,
      name: Buffer.from(branch),
    });
    const commit = response.branch?.target_commit;
    return { commit: commit ? { id: commit.id, subject: Buffer.from(commit.subject).toString('utf8') } : null, stale };
  }

  /** The subjects of a branch's first-parent history, oldest first; `stale` when the router said so. */
  async commitSubjects(repository: RepositoryRef, branch: string): Promise<{ subjects: string[]; stale: boolean }> {
    const fn = this.method('/gitaly.CommitService/ListCommits');
    const call = fn({ repository, revisions: [branch], first_parent: true, reverse: true }, new grpc.Metadata(), this.deadline()) as grpc.ClientReadableStream<{ commits: { subject: Buffer }[] }>;
    let stale = false;
    call.on('metadata', (headers: grpc.Metadata) => (stale = isStale(headers)));
    const subjects: string[] = [];
    for await (const message of call) subjects.push(...(message as { commits: { subject: Buffer }[] }).commits.map((c) => Buffer.from(c.subject).toString('utf8')));
    return { subjects, stale };
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }

  private method(path: string): AnyMethod {
    const [, service = '', name = ''] = path.split('/');
    let client = this.clients.get(service);
    if (client === undefined) {
      client = gitalyClient(service, this.address, { token: this.token });
      this.clients.set(service, client);
    }
    const fn = (client as unknown as Record<string, AnyMethod>)[name];
    if (fn === undefined) throw new Error(`no method ${path}`);
    return fn.bind(client);
  }

  private deadline(): { deadline: number } {
    return { deadline: Date.now() + this.timeoutMs };
  }

  private unary<T = unknown>(path: string, request: unknown): Promise<T> {
    const fn = this.method(path);
    return new Promise((resolve, reject) => {
      fn(request, new grpc.Metadata(), this.deadline(), (error: grpc.ServiceError | null, response: T) => (error ? reject(error) : resolve(response)));
    });
  }

  /** A unary read and whether the router marked its answer stale (in the response headers). */
  private unaryRead<T>(path: string, request: unknown): Promise<{ response: T; stale: boolean }> {
    const fn = this.method(path);
    return new Promise((resolve, reject) => {
      let stale = false;
      const call = fn(request, new grpc.Metadata(), this.deadline(), (error: grpc.ServiceError | null, response: T) => (error ? reject(error) : resolve({ response, stale }))) as grpc.ClientUnaryCall;
      call.on('metadata', (headers: grpc.Metadata) => (stale = isStale(headers)));
    });
  }

  private clientStream<T>(path: string, requests: readonly unknown[]): Promise<T> {
    const fn = this.method(path);
    return new Promise((resolve, reject) => {
      const call = fn(new grpc.Metadata(), this.deadline(), (error: grpc.ServiceError | null, response: T) =>
        error ? reject(error) : resolve(response),
      ) as grpc.ClientWritableStream<unknown>;
      for (const request of requests) call.write(request);
      call.end();
    });
  }

  private async serverStream<T>(path: string, request: unknown): Promise<T[]> {
    const fn = this.method(path);
    const call = fn(request, new grpc.Metadata(), this.deadline()) as grpc.ClientReadableStream<T>;
    const messages: T[] = [];
    for await (const message of call) messages.push(message as T);
    return messages;
  }
}

function isStale(headers: grpc.Metadata): boolean {
  return headers.get(STALE_READ_HEADER).some((v) => v.toString() === 'stale');
}

/** A short, stable description of a failed call for the history. */
export function describeError(error: unknown): string {
  const service = error as Partial<grpc.ServiceError>;
  if (typeof service.code === 'number') return `${grpc.status[service.code] ?? service.code}: ${service.details ?? ''}`.slice(0, 300);
  return String((error as Error)?.message ?? error).slice(0, 300);
}

/** The gRPC code name of a failed call, or undefined for non-gRPC errors. */
export function statusName(error: unknown): string | undefined {
  const code = (error as Partial<grpc.ServiceError>).code;
  return typeof code === 'number' ? grpc.status[code] : undefined;
}

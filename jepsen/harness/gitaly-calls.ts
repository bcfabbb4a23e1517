// The Gitaly RPCs the workloads make through a router, as promise calls with
// a deadline. Plain gRPC clients of our protocol definitions: what any
// Gitaly client would send.
import * as grpc from '@grpc/grpc-js';
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

  /** The commit a branch points at (id and subject), or null when there is no such branch. */
  async findBranch(repository: RepositoryRef, branch: string): Promise<{ id: string; subject: string } | null> {
    const response = await this.unary<{ branch: { target_commit: { id: string; subject: Buffer } | null } | null }>('/gitaly.RefService/FindBranch', {
      repository,
      name: Buffer.from(branch),
    });
    const commit = response.branch?.target_commit;
    return commit ? { id: commit.id, subject: Buffer.from(commit.subject).toString('utf8') } : null;
  }

  /** The subjects of a branch's first-parent history, oldest first. */
  async commitSubjects(repository: RepositoryRef, branch: string): Promise<string[]> {
    const messages = await this.serverStream<{ commits: { subject: Buffer }[] }>('/gitaly.CommitService/ListCommits', {
      repository,
      revisions: [branch],
      first_parent: true,
      reverse: true,
    });
    return messages.flatMap((m) => m.commits.map((c) => Buffer.from(c.subject).toString('utf8')));
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

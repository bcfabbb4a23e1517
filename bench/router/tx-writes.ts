// The writes the transactions bench times, through one cluster: a small
// UserCommitFiles (one new file per commit) and a real `git push` of a small
// commit through the cluster's git gateway. Each knows how to set itself up on
// a fresh cluster and how to tell whether its repositories' replicas are level.
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import type { RepositoryMetadataResponse } from '../../src/admin/index.js';
import { gitalyClient } from '../../src/gitaly/index.js';
import { createRepositoryThrough, type BenchCluster } from './bench-cluster.js';

const execFileAsync = promisify(execFile);
const WRITE_DEADLINE_MS = 60_000;
const GIT_TIMEOUT_MS = 120_000;
const USER = { gl_id: 'user-bench', name: Buffer.from('Bench Writer'), email: Buffer.from('bench@example.invalid'), gl_username: 'bench', timezone: 'UTC' };

/** One cluster as the bench writes to it: through its Raft leader. */
export interface WriteTarget {
  readonly bench: BenchCluster;
  readonly leader: number;
  readonly operations: grpc.Client;
  /** Repositories UserCommitFiles writes to, one writer at a time each. */
  readonly repositories: readonly string[];
  readonly pusher: GitPusher;
  /** Files written so far, so every commit creates a new file. */
  written: number;
}

export async function writeTarget(bench: BenchCluster, leader: number, repositoryCount: number, workDir: string): Promise<WriteTarget> {
  const repositories = Array.from({ length: repositoryCount }, (_, i) => `bench/tx-${i}.git`);
  for (const relativePath of repositories) await createRepositoryThrough(bench, leader, relativePath);
  const operations = gitalyClient('gitaly.OperationService', bench.cluster.routers[leader]!.address, { token: bench.token });
  const pusher = await GitPusher.create(bench, leader, workDir);
  return { bench, leader, operations, repositories, pusher, written: 0 };
}

/** UserCommitFiles creating one small file on main; resolves with the new commit. */
export function commitOneFile(target: WriteTarget, relativePath: string): Promise<string> {
  const n = target.written++;
  const fn = (target.operations as unknown as Record<string, (...args: unknown[]) => grpc.ClientWritableStream<unknown>>)['UserCommitFiles']!;
  return new Promise((resolve, reject) => {
    const call = fn.call(target.operations, new grpc.Metadata(), { deadline: Date.now() + WRITE_DEADLINE_MS }, (error: grpc.ServiceError | null, response: { branch_update?: { commit_id: string } }) =>
      error ? reject(error) : resolve(response.branch_update?.commit_id ?? ''),
    );
    call.write({
      header: {
        repository: { storage_name: target.bench.virtualStorage, relative_path: relativePath },
        user: USER,
        branch_name: Buffer.from('main'),
        commit_message: Buffer.from(`bench write ${n}`),
      },
    });
    call.write({ action: { header: { action: 'CREATE', file_path: Buffer.from(`f/${n}.txt`) } } });
    call.write({ action: { content: Buffer.from(`write ${n}\n`) } });
    call.end();
  });
}

/** What the router's state says about a repository's replicas, asked of the leader. */
export function metadataOf(target: WriteTarget, relativePath: string): Promise<RepositoryMetadataResponse> {
  return target.bench.admins[target.leader]!.repositoryMetadata({ virtual_storage: target.bench.virtualStorage, relative_path: relativePath, fresh: true });
}

/** How many replicas are on the repository's newest generation (all of them when level). */
export function replicasAtNewest(metadata: RepositoryMetadataResponse): number {
  return metadata.replicas.filter((r) => r.generation === metadata.generation).length;
}

/**
 * A local repository that pushes one small commit at a time to one cluster
 * repository through the gateway. Pushes are sequential, so each one is a
 * fast-forward of the last.
 */
export class GitPusher {
  private commits = 0;

  private constructor(
    readonly relativePath: string,
    private readonly url: string,
    private readonly work: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  static async create(bench: BenchCluster, leader: number, workDir: string): Promise<GitPusher> {
    const relativePath = 'bench/tx-push.git';
    await createRepositoryThrough(bench, leader, relativePath);
    const home = path.join(workDir, 'home');
    const work = path.join(workDir, 'src');
    await mkdir(home, { recursive: true });
    await writeFile(path.join(home, '.gitconfig'), '[user]\n\tname = Bench Pusher\n\temail = push@example.invalid\n[init]\n\tdefaultBranch = main\n');
    const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', LANG: 'C' };
    const pusher = new GitPusher(relativePath, `${bench.cluster.gitUrl}/${relativePath}`, work, env);
    await pusher.git(workDir, ['init', '-q', '-b', 'main', 'src']);
    return pusher;
  }

  /** A new small commit in the local repository (not timed). */
  async prepareCommit(): Promise<void> {
    const n = this.commits++;
    await writeFile(path.join(this.work, `p${n % 64}.txt`), `push ${n}\n`);
    await this.git(this.work, ['add', '-A']);
    await this.git(this.work, ['commit', '-q', '-m', `push ${n}`]);
  }

  /** Pushes the local main to the cluster (the part that is timed). */
  async push(): Promise<void> {
    await this.git(this.work, ['push', '-q', this.url, 'main']);
  }

  private async git(cwd: string, args: string[]): Promise<void> {
    await execFileAsync('git', args, { cwd, env: this.env, timeout: GIT_TIMEOUT_MS, maxBuffer: 1024 * 1024 });
  }
}

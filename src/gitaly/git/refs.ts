// Reading references with for-each-ref and symbolic-ref.
import type { GitRunner } from '../git-runner.js';

export interface RefEntry {
  name: string;
  oid: string;
  /** For annotated tags: the object the tag points at, after peeling. */
  peeled: string;
}

export interface ListOptions {
  patterns: readonly string[];
  /** for-each-ref --sort keys, e.g. "refname", "-committerdate". */
  sort?: readonly string[];
  pointsAt?: readonly string[];
  signal?: AbortSignal;
}

export async function listRefs(git: GitRunner, gitDir: string, options: ListOptions): Promise<RefEntry[]> {
  const args = ['for-each-ref', '--format=%(refname)%00%(objectname)%00%(*objectname)'];
  for (const key of options.sort ?? []) args.push(`--sort=${key}`);
  for (const oid of options.pointsAt ?? []) args.push(`--points-at=${oid}`);
  args.push('--', ...options.patterns);
  const { stdout } = await git.run({ gitDir, args, signal: options.signal });
  return stdout
    .toString('utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const [name = '', oid = '', peeled = ''] = line.split('\0');
      return { name, oid, peeled };
    });
}

/** The object a reference points at, or undefined when it does not exist. */
export async function resolveReference(git: GitRunner, gitDir: string, name: string, signal?: AbortSignal): Promise<string | undefined> {
  const { stdout, exitCode } = await git.run({
    gitDir,
    args: ['rev-parse', '--verify', '--quiet', '--end-of-options', `${name}^{object}`],
    okExitCodes: [0, 1],
    signal,
  });
  return exitCode === 0 ? stdout.toString('latin1').trim() : undefined;
}

/** The commit a revision names, or undefined. */
export async function resolveCommit(git: GitRunner, gitDir: string, revision: string, signal?: AbortSignal): Promise<string | undefined> {
  const { stdout, exitCode } = await git.run({
    gitDir,
    args: ['rev-parse', '--verify', '--quiet', '--end-of-options', `${revision}^{commit}`],
    okExitCodes: [0, 1, 128],
    signal,
  });
  return exitCode === 0 ? stdout.toString('latin1').trim() : undefined;
}

/** Where HEAD points, e.g. "refs/heads/main", whether or not that branch exists. */
export async function headTarget(git: GitRunner, gitDir: string, signal?: AbortSignal): Promise<string> {
  const { stdout, exitCode } = await git.run({ gitDir, args: ['symbolic-ref', '-q', 'HEAD'], okExitCodes: [0, 1], signal });
  return exitCode === 0 ? stdout.toString('utf8').trim() : '';
}

/**
 * Gitaly's choice of default branch: HEAD's branch if it exists; with one
 * branch, that one; else main, then master, then the first branch.
 */
export async function defaultBranch(git: GitRunner, gitDir: string, signal?: AbortSignal): Promise<string> {
  const branches = (await listRefs(git, gitDir, { patterns: ['refs/heads/'], signal })).map((r) => r.name);
  if (branches.length <= 1) return branches[0] ?? '';
  const head = await headTarget(git, gitDir, signal);
  if (branches.includes(head)) return head;
  for (const candidate of ['refs/heads/main', 'refs/heads/master']) if (branches.includes(candidate)) return candidate;
  return branches[0] ?? '';
}

export async function hasBranches(git: GitRunner, gitDir: string, signal?: AbortSignal): Promise<boolean> {
  const { stdout } = await git.run({ gitDir, args: ['for-each-ref', '--count=1', '--format=%(refname)', '--', 'refs/heads/'], signal });
  return stdout.length > 0;
}

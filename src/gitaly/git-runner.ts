// Runs git: argument arrays only (never a shell), a bounded number at once,
// each with a timeout, killed when its call is cancelled.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { CancelledError, DeadlineExceededError, GitalyError, ResourceExhaustedError } from './errors.js';
import { Semaphore } from './semaphore.js';

export interface GitRunnerOptions {
  binPath: string;
  maxConcurrent: number;
  maxQueued: number;
  queueTimeoutMs: number;
  commandTimeoutMs: number;
  maxBufferedOutputBytes: number;
}

export interface GitCommand {
  /** The repository; omitted for commands such as `git version` or `git init`. */
  gitDir?: string;
  args: readonly string[];
  /** `-c key=value` entries, already validated by the caller. */
  config?: readonly string[];
  env?: Readonly<Record<string, string>>;
  cwd?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** The caller reads stderr itself (e.g. forwards it to a client). */
  consumeStderr?: boolean;
}

export interface GitResult {
  stdout: Buffer;
  stderr: string;
  exitCode: number;
}

/** A git command that exited non-zero; stderr is kept for the caller to classify. */
export class GitCommandError extends GitalyError {
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number,
    readonly stderr: string,
  ) {
    super('internal', `git ${args[0] ?? ''} failed with exit code ${exitCode}: ${stderr.trim().slice(0, 2000)}`);
  }
}

const STDERR_TAIL_BYTES = 64 * 1024;
// Every command gets these: no automatic gc in the middle of a call, no
// hooks, and no configuration from outside the repository.
const BASE_CONFIG = ['gc.auto=0', 'core.hooksPath=/dev/null', 'maintenance.auto=false'];

export class GitRunner {
  private readonly slots: Semaphore;

  constructor(readonly options: GitRunnerOptions) {
    this.slots = new Semaphore('git', options.maxConcurrent, options.maxQueued, options.queueTimeoutMs);
  }

  get inProgress(): number {
    return this.slots.inProgress;
  }

  get queued(): number {
    return this.slots.queued;
  }

  /** Runs to completion with buffered output; a non-zero exit not in okExitCodes throws GitCommandError. */
  async run(command: GitCommand & { stdin?: Buffer | string; okExitCodes?: readonly number[] }): Promise<GitResult> {
    const proc = await this.spawn(command);
    const stdout = collect(proc.stdout, this.options.maxBufferedOutputBytes, () => proc.kill());
    proc.stdin.on('error', () => undefined); // git may exit before reading all of stdin
    proc.stdin.end(command.stdin ?? '');
    const [output, status] = await Promise.all([stdout, proc.wait()]);
    if (output === undefined) {
      throw new ResourceExhaustedError(`git ${command.args[0] ?? ''} produced more than ${this.options.maxBufferedOutputBytes} bytes`);
    }
    const ok = command.okExitCodes ?? [0];
    if (!ok.includes(status.exitCode)) throw new GitCommandError(command.args, status.exitCode, status.stderr);
    return { stdout: output, stderr: status.stderr, exitCode: status.exitCode };
  }

  /** Starts a process once a slot is free; the slot is held until it exits. */
  async spawn(command: GitCommand): Promise<GitProcess> {
    const release = await this.slots.acquire(command.signal);
    try {
      const args = [...[...BASE_CONFIG, ...(command.config ?? [])].flatMap((c) => ['-c', c])];
      if (command.gitDir !== undefined) args.push('--git-dir', command.gitDir);
      args.push(...command.args);
      const child = spawn(this.options.binPath, args, {
        cwd: command.cwd ?? command.gitDir ?? process.cwd(),
        env: gitEnvironment(command.env),
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      return new GitProcess(child, command, this.options.commandTimeoutMs, release);
    } catch (error) {
      release();
      throw error;
    }
  }
}

export interface GitExit {
  exitCode: number;
  stderr: string;
}

/** A running git process. wait() rejects only for timeouts and cancellation. */
export class GitProcess {
  readonly stdin: ChildProcessWithoutNullStreams['stdin'];
  readonly stdout: ChildProcessWithoutNullStreams['stdout'];
  readonly stderr: ChildProcessWithoutNullStreams['stderr'];
  private readonly exit: Promise<GitExit>;
  private stderrTail = '';
  private interruption: Error | undefined;
  /** When set, stderr is handed to the caller instead of being kept. */
  private readonly stderrConsumed: boolean;

  constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    command: GitCommand,
    defaultTimeoutMs: number,
    release: () => void,
  ) {
    this.stdin = child.stdin;
    this.stdout = child.stdout;
    this.stderr = child.stderr;
    this.stderrConsumed = command.consumeStderr === true;
    if (!this.stderrConsumed) {
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL_BYTES);
      });
    }
    const timeoutMs = command.timeoutMs ?? defaultTimeoutMs;
    const timer = setTimeout(() => this.interrupt(new DeadlineExceededError(`git ${command.args[0] ?? ''} timed out after ${timeoutMs} ms`)), timeoutMs);
    const onAbort = (): void => this.interrupt(new CancelledError(`git ${command.args[0] ?? ''} cancelled`));
    command.signal?.addEventListener('abort', onAbort, { once: true });
    this.exit = new Promise<GitExit>((resolve, reject) => {
      const finish = (exitCode: number): void => {
        clearTimeout(timer);
        command.signal?.removeEventListener('abort', onAbort);
        release();
        if (this.interruption !== undefined) reject(this.interruption);
        else resolve({ exitCode, stderr: this.stderrTail });
      };
      child.once('error', (error) => {
        this.interruption ??= error;
        finish(-1);
      });
      child.once('close', (code, signal) => finish(code ?? (signal === null ? -1 : 128)));
    });
    // Callers that only look at stdout must not see unhandled rejections.
    this.exit.catch(() => undefined);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  wait(): Promise<GitExit> {
    return this.exit;
  }

  /** Resolves on exit code 0, else throws GitCommandError. */
  async waitSuccess(args: readonly string[]): Promise<GitExit> {
    const status = await this.exit;
    if (status.exitCode !== 0) throw new GitCommandError(args, status.exitCode, status.stderr);
    return status;
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  private interrupt(reason: Error): void {
    this.interruption ??= reason;
    this.kill();
  }
}

function gitEnvironment(extra: Readonly<Record<string, string>> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env['HOME'] ?? '/nonexistent',
    LANG: 'C',
    LC_ALL: 'C',
    TZ: process.env['TZ'] ?? 'UTC',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '/bin/false',
  };
  return { ...env, ...extra };
}

/** Collects a stream up to a byte bound; undefined (after onOverflow) when it is exceeded. */
async function collect(stream: NodeJS.ReadableStream, maxBytes: number, onOverflow: () => void): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buffer = chunk as Buffer;
    total += buffer.length;
    if (total > maxBytes) {
      onOverflow();
      return undefined;
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

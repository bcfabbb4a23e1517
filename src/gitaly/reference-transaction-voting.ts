// The storage node's side of reference transactions. A transactional call
// (a mutator whose metadata names a transaction) runs its git commands with
// core.hooksPath pointing at a folder holding git's reference-transaction
// hook. The hook connects back to this process over a unix socket; here the
// reference updates are hashed and voted with the router, and the verdict
// goes back to the hook, which makes git commit or abort the updates.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { findProjectRoot } from '../protocol/index.js';
import { FailedPreconditionError, ResourceExhaustedError } from './errors.js';
import { applyVoteFailpoint, type VoteFailpoint } from './failpoints.js';
import type { StorageLocator } from './locator.js';
import { isForceDeletionsOnly, refUpdatesHash } from './ref-updates-vote.js';
import type { TransactionContext } from './transaction-metadata.js';
import { VoteClient, type VoteRepository, type VoteVerdict } from './vote-client.js';

export const HOOK_SOCKET_ENV = 'GITALY_TX_HOOK_SOCKET';
export const HOOK_KEY_ENV = 'GITALY_TX_HOOK_KEY';
const HOOK_MAIN = 'reference-transaction-hook-main.js';

export interface VotingOptions {
  locator: StorageLocator;
  log: Logger;
  voteClient?: VoteClient;
  /** Transactional calls in flight at once; past it they fail with RESOURCE_EXHAUSTED. */
  maxCalls?: number;
  /** Largest hook request (the reference updates of one git transaction). */
  maxHookRequestBytes?: number;
  /** The compiled hook program; found next to this module or under dist/ by default. */
  hookMainPath?: string;
  /** A test failpoint on every vote (src/gitaly/failpoints.ts). */
  voteFailpoint?: VoteFailpoint;
}

/** What git needs for one call: extra `-c` entries and environment. */
export interface GitHookSettings {
  config: string[];
  env: Record<string, string>;
}

/** One transactional call: its settings for git, and how its votes went. */
export interface TransactionalCall {
  readonly settings: GitHookSettings;
  readonly context: TransactionContext;
  /** The first verdict other than commit, if any: the reason the call's ref update failed. */
  readonly refusal: { verdict: VoteVerdict | 'error'; message: string } | undefined;
  release(): void;
}

interface CallEntry {
  context: TransactionContext;
  refusal: { verdict: VoteVerdict | 'error'; message: string } | undefined;
}

interface HookRequest {
  key?: unknown;
  phase?: unknown;
  cwd?: unknown;
  changes?: unknown;
}

export class ReferenceTransactionVoting {
  private readonly calls = new Map<string, CallEntry>();
  private readonly voteClient: VoteClient;
  private readonly maxCalls: number;
  private readonly maxHookRequestBytes: number;

  private constructor(
    private readonly options: VotingOptions,
    private readonly dir: string,
    private readonly server: net.Server,
    private readonly hookReady: boolean,
  ) {
    this.voteClient = options.voteClient ?? new VoteClient();
    this.maxCalls = options.maxCalls ?? 4096;
    this.maxHookRequestBytes = options.maxHookRequestBytes ?? 64 * 1024 * 1024;
  }

  static async start(options: VotingOptions): Promise<ReferenceTransactionVoting> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gitaly-tx-'));
    const hookMain = options.hookMainPath ?? defaultHookMainPath();
    const hookReady = existsSync(hookMain);
    if (hookReady) await writeHookScript(dir, hookMain);
    else options.log.warn({ hookMain }, 'reference-transaction hook program not found (build first); transactional calls will fail');
    const server = net.createServer();
    const voting = new ReferenceTransactionVoting(options, dir, server, hookReady);
    server.on('connection', (socket) => voting.serveHook(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path.join(dir, 'hook.sock'), () => resolve());
    });
    return voting;
  }

  get hooksDir(): string {
    return path.join(this.dir, 'hooks');
  }

  /** Registers a transactional call; release() when it ends. */
  enter(context: TransactionContext): TransactionalCall {
    if (!this.hookReady) throw new FailedPreconditionError('this node cannot take part in transactions: its reference-transaction hook is missing');
    if (this.calls.size >= this.maxCalls) throw new ResourceExhaustedError(`${this.maxCalls} transactional calls are in flight already`);
    const key = randomBytes(16).toString('hex');
    const entry: CallEntry = { context, refusal: undefined };
    this.calls.set(key, entry);
    const settings: GitHookSettings = {
      config: [`core.hooksPath=${this.hooksDir}`],
      env: { [HOOK_SOCKET_ENV]: path.join(this.dir, 'hook.sock'), [HOOK_KEY_ENV]: key },
    };
    return {
      settings,
      context,
      get refusal() {
        return entry.refusal;
      },
      release: () => void this.calls.delete(key),
    };
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.voteClient.close();
    await rm(this.dir, { recursive: true, force: true });
  }

  private serveHook(socket: net.Socket): void {
    let buffered = Buffer.alloc(0);
    let handled = false;
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      if (handled) return;
      buffered = Buffer.concat([buffered, chunk]);
      const newline = buffered.indexOf(0x0a);
      if (newline < 0) {
        if (buffered.length > this.maxHookRequestBytes) {
          handled = true;
          socket.end(`${JSON.stringify({ verdict: 'error', message: 'hook request too large' })}\n`);
        }
        return;
      }
      handled = true;
      this.answerHook(buffered.subarray(0, newline)).then(
        (answer) => socket.end(`${JSON.stringify(answer)}\n`),
        (error: unknown) => socket.end(`${JSON.stringify({ verdict: 'error', message: messageOf(error) })}\n`),
      );
    });
  }

  private async answerHook(line: Buffer): Promise<{ verdict: VoteVerdict | 'error'; message?: string }> {
    const request = JSON.parse(line.toString('utf8')) as HookRequest;
    const entry = typeof request.key === 'string' ? this.calls.get(request.key) : undefined;
    if (entry === undefined) return { verdict: 'error', message: 'the hook does not belong to a transactional call in flight' };
    // Only the prepared phase can still abort; the script skips the others.
    if (request.phase !== 'prepared') return { verdict: 'commit' };
    const changes = Buffer.from(typeof request.changes === 'string' ? request.changes : '', 'base64');
    if (isForceDeletionsOnly(changes)) return { verdict: 'commit' };
    const repository = typeof request.cwd === 'string' ? this.repositoryAt(request.cwd) : undefined;
    let verdict: VoteVerdict | 'error';
    let message: string;
    try {
      const hash = applyVoteFailpoint(this.options.voteFailpoint, refUpdatesHash(changes));
      verdict = await this.voteClient.vote(entry.context, repository, hash, 'PREPARED_PHASE');
      message = verdict === 'commit' ? '' : `the transaction's vote ended in ${verdict.toUpperCase()}`;
    } catch (error) {
      verdict = 'error';
      message = messageOf(error);
    }
    if (verdict !== 'commit') {
      entry.refusal ??= { verdict, message };
      this.options.log.info({ transactionId: entry.context.transaction.id, node: entry.context.transaction.node, verdict, message }, 'reference update refused by vote');
    }
    return { verdict, message };
  }

  /** The repository the hook runs in (git runs hooks in the bare repository). */
  private repositoryAt(cwd: string): VoteRepository | undefined {
    for (const name of this.options.locator.storageNames()) {
      const root = this.options.locator.storagePath(name);
      if (cwd.startsWith(root + path.sep)) return { storage_name: name, relative_path: cwd.slice(root.length + 1) };
    }
    return undefined;
  }
}

/** The compiled hook program: next to this module when running from dist/, else under dist/. */
function defaultHookMainPath(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return path.join(path.dirname(here), HOOK_MAIN);
  return path.join(findProjectRoot(), 'dist', 'src', 'gitaly', HOOK_MAIN);
}

// The script only starts node for the prepared phase: git ignores the exit
// status of the others, and starting node costs tens of milliseconds.
async function writeHookScript(dir: string, hookMain: string): Promise<void> {
  const hooks = path.join(dir, 'hooks');
  const script = path.join(hooks, 'reference-transaction');
  const body = [
    '#!/bin/sh',
    '# Written by the storage node: votes reference updates of transactional calls.',
    'test "$1" = prepared || exit 0',
    `exec ${shellQuote(process.execPath)} ${shellQuote(hookMain)} "$@"`,
    '',
  ].join('\n');
  await mkdir(hooks, { recursive: true });
  await writeFile(script, body);
  await chmod(script, 0o755);
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

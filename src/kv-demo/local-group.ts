import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import path from 'node:path';
import { findProjectRoot } from '../protocol/index.js';
import type { NodeId } from '../raft/index.js';
import { KvClient, type KvStatus } from './kv-proto.js';
import { formatMembers } from './members.js';

export interface LocalGroupOptions {
  readonly size: number;
  readonly dataDir: string;
  readonly basePort: number;
  readonly tickMs?: number;
  readonly electionTicks?: number;
  /** Node flags for each member process (e.g. --cpu-prof, which NODE_OPTIONS may not carry). */
  readonly nodeArgs?: readonly string[];
  /** Receives each line a member logs. */
  readonly onLog?: (id: NodeId, line: string) => void;
}

/**
 * A Raft group of real `bin/raft-kv-node` processes on loopback, for the
 * demo, the integration tests and the benchmark.
 */
export class LocalGroup {
  readonly members: Map<NodeId, string>;
  readonly clients = new Map<NodeId, KvClient>();
  private readonly processes = new Map<NodeId, ChildProcess>();
  private readonly token = randomBytes(16).toString('hex');

  constructor(private readonly options: LocalGroupOptions) {
    this.members = new Map(Array.from({ length: options.size }, (_, i) => [i + 1, `127.0.0.1:${options.basePort + i}`] as const));
    for (const [id, address] of this.members) this.clients.set(id, new KvClient(address));
  }

  client(id: NodeId): KvClient {
    const client = this.clients.get(id);
    if (!client) throw new Error(`no member ${id}`);
    return client;
  }

  startAll(): void {
    for (const id of this.members.keys()) this.start(id);
  }

  start(id: NodeId): void {
    if (this.processes.has(id)) return;
    // The compiled .js entry, not the extensionless bin: a test runner's
    // require hooks would load an extensionless file as CommonJS.
    const bin = path.join(findProjectRoot(), 'dist', 'src', 'kv-demo', 'kv-node-cli.js');
    const child = spawn(
      process.execPath,
      [
        ...(this.options.nodeArgs ?? []),
        bin,
        '--id', String(id),
        '--members', formatMembers(this.members),
        '--data-dir', path.join(this.options.dataDir, `node-${id}`),
        '--tick-ms', String(this.options.tickMs ?? 100),
        '--election-ticks', String(this.options.electionTicks ?? 10),
      ],
      { env: childEnv({ RAFT_INTERNAL_TOKEN: this.token }), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.processes.set(id, child);
    const forward = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) this.options.onLog?.(id, line);
    };
    child.stdout?.on('data', forward);
    child.stderr?.on('data', forward);
    child.once('exit', () => this.processes.delete(id));
  }

  isRunning(id: NodeId): boolean {
    return this.processes.has(id);
  }

  pid(id: NodeId): number | undefined {
    return this.processes.get(id)?.pid;
  }

  async kill(id: NodeId, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.processes.get(id);
    if (!child) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.processes.keys()].map((id) => this.kill(id, 'SIGTERM')));
    for (const client of this.clients.values()) client.close();
  }

  /** Status of every running member that answers; the others are left out. */
  async statuses(timeoutMs = 1_000): Promise<Map<NodeId, KvStatus>> {
    const out = new Map<NodeId, KvStatus>();
    await Promise.all(
      [...this.members.keys()].filter((id) => this.isRunning(id)).map(async (id) => {
        try {
          out.set(id, await this.client(id).status(timeoutMs));
        } catch {
          // not answering yet
        }
      }),
    );
    return out;
  }

  /** Waits for a leader that every answering member agrees on (excluding `exclude`), with a deadline. */
  async waitForLeader(deadlineMs: number, exclude?: NodeId): Promise<{ leader: NodeId; term: number }> {
    const until = Date.now() + deadlineMs;
    while (Date.now() < until) {
      const statuses = await this.statuses(500);
      const leaders = [...statuses.values()].filter((s) => s.role === 'leader' && s.id !== exclude);
      const leader = leaders[0];
      if (leaders.length === 1 && leader && [...statuses.values()].every((s) => s.leader === leader.id || s.id === exclude)) {
        return { leader: leader.id, term: leader.term };
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`no agreed leader within ${deadlineMs} ms`);
  }

  /** Polls `predicate` until it holds or the deadline passes. */
  static async waitFor(what: string, deadlineMs: number, predicate: () => Promise<boolean>): Promise<void> {
    const until = Date.now() + deadlineMs;
    while (Date.now() < until) {
      if (await predicate()) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
  }
}

/** Members run plain compiled code: a test runner's loader hooks (NODE_OPTIONS) must not leak into them. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env['NODE_OPTIONS'];
  return env;
}

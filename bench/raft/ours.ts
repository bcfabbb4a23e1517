// Our Raft group: three bin/raft-kv-node processes (LevelDB with synced
// writes, gRPC transport) started by src/kv-demo's LocalGroup.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import { formatMembers, KvClient, LocalGroup, type LocalGroupOptions } from '../../src/kv-demo/index.js';
import { findProjectRoot } from '../../src/protocol/index.js';
import { sleep, type BenchSystem, type MemberStatus } from './system.js';

/** The part of LocalGroup the bench uses. */
type Group = Pick<LocalGroup, 'members' | 'clients' | 'client' | 'startAll' | 'start' | 'kill' | 'stopAll' | 'isRunning' | 'pid'>;

/**
 * LocalGroup's members with node flags (--cpu-prof): LocalGroup strips
 * NODE_OPTIONS from its members, and --cpu-prof is not allowed there anyway,
 * so this spawns the same entry (dist/src/kv-demo/kv-node-cli.js) with the
 * same arguments itself. Used only when profiling.
 */
class FlaggedGroup implements Group {
  readonly members: Map<number, string>;
  readonly clients = new Map<number, KvClient>();
  private readonly processes = new Map<number, ChildProcess>();
  private readonly token = randomBytes(16).toString('hex');

  constructor(
    private readonly options: LocalGroupOptions,
    private readonly nodeArgs: readonly string[],
  ) {
    this.members = new Map(Array.from({ length: options.size }, (_, i) => [i + 1, `127.0.0.1:${options.basePort + i}`] as const));
    for (const [id, address] of this.members) this.clients.set(id, new KvClient(address));
  }

  client(id: number): KvClient {
    const client = this.clients.get(id);
    if (!client) throw new Error(`no member ${id}`);
    return client;
  }

  startAll(): void {
    for (const id of this.members.keys()) this.start(id);
  }

  start(id: number): void {
    if (this.processes.has(id)) return;
    const entry = path.join(findProjectRoot(), 'dist', 'src', 'kv-demo', 'kv-node-cli.js');
    const env: NodeJS.ProcessEnv = { ...process.env, RAFT_INTERNAL_TOKEN: this.token };
    delete env['NODE_OPTIONS'];
    const child = spawn(
      process.execPath,
      [
        ...this.nodeArgs,
        entry,
        '--id', String(id),
        '--members', formatMembers(this.members),
        '--data-dir', path.join(this.options.dataDir, `node-${id}`),
        '--tick-ms', String(this.options.tickMs ?? 100),
        '--election-ticks', String(this.options.electionTicks ?? 10),
      ],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.processes.set(id, child);
    const forward = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) this.options.onLog?.(id, line);
    };
    child.stdout?.on('data', forward);
    child.stderr?.on('data', forward);
    child.once('exit', () => this.processes.delete(id));
  }

  isRunning(id: number): boolean {
    return this.processes.has(id);
  }

  pid(id: number): number | undefined {
    return this.processes.get(id)?.pid;
  }

  async kill(id: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
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
}

export interface OursOptions {
  readonly dataDir: string;
  readonly basePort: number;
  readonly valueBytes: number;
  readonly tickMs: number;
  readonly electionTicks: number;
  /** Node flags for the members (e.g. --cpu-prof); when set, the members are spawned by FlaggedGroup. */
  readonly nodeArgs?: readonly string[];
}

export class OursSystem implements BenchSystem {
  readonly name = 'ours' as const;
  readonly members = ['1', '2', '3'];
  private readonly group: Group;
  private readonly value: string;
  private readonly log: WriteStream;

  constructor(private readonly options: OursOptions) {
    this.log = createWriteStream(path.join(options.dataDir, 'members.log'));
    const groupOptions: LocalGroupOptions = {
      size: 3,
      dataDir: options.dataDir,
      basePort: options.basePort,
      tickMs: options.tickMs,
      electionTicks: options.electionTicks,
      onLog: (id, line) => this.log.write(`${id} ${line}\n`),
    };
    this.group = options.nodeArgs?.length ? new FlaggedGroup(groupOptions, options.nodeArgs) : new LocalGroup(groupOptions);
    this.value = 'v'.repeat(options.valueBytes);
  }

  async start(): Promise<void> {
    this.group.startAll();
  }

  async stop(): Promise<void> {
    const stopping = this.group.stopAll();
    const grace = sleep(15_000).then(() => 'timeout' as const);
    if ((await Promise.race([stopping.then(() => 'done' as const), grace])) === 'timeout') {
      for (const m of this.members) await this.kill(m);
    }
    await new Promise<void>((resolve) => this.log.end(() => resolve()));
  }

  async status(member: string, timeoutMs: number): Promise<MemberStatus> {
    const s = await this.group.client(Number(member)).status(timeoutMs);
    return { member, leader: s.leader ? String(s.leader) : undefined, term: s.term, commit: s.commit, applied: s.applied };
  }

  async put(member: string, key: string, timeoutMs: number): Promise<void> {
    await this.group.client(Number(member)).put(key, this.value, timeoutMs);
  }

  kill(member: string): Promise<void> {
    return this.group.kill(Number(member), 'SIGKILL');
  }

  restart(member: string): void {
    const id = Number(member);
    this.group.start(id);
    // A fresh channel: the old one sits in grpc-js's reconnect backoff (1 s and growing) after the kill.
    const old = this.group.clients.get(id);
    this.group.clients.set(id, new KvClient(this.group.members.get(id)!));
    old?.close();
  }

  isRunning(member: string): boolean {
    return this.group.isRunning(Number(member));
  }

  pid(member: string): number | undefined {
    return this.group.pid(Number(member));
  }

  describe(): Record<string, unknown> {
    return {
      members: [...this.group.members.values()],
      tickMs: this.options.tickMs,
      electionTicks: this.options.electionTicks,
      electionTimeoutMs: `${this.options.tickMs * this.options.electionTicks}–${2 * this.options.tickMs * this.options.electionTicks} (randomized)`,
      heartbeatMs: this.options.tickMs,
      storage: 'LevelDB (classic-level), one synced batch per Ready',
      nodeArgs: this.options.nodeArgs?.join(' ') ?? '',
    };
  }
}

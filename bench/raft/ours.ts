// Our Raft group: three bin/raft-kv-node processes (LevelDB with synced
// writes, gRPC transport) started by src/kv-demo's LocalGroup.
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import { KvClient, LocalGroup, type LocalGroupOptions } from '../../src/kv-demo/index.js';
import { sleep, type BenchSystem, type MemberStatus } from './system.js';

export interface OursOptions {
  readonly dataDir: string;
  readonly basePort: number;
  readonly valueBytes: number;
  readonly tickMs: number;
  readonly electionTicks: number;
  /** Node flags for the members (e.g. --cpu-prof). */
  readonly nodeArgs?: readonly string[];
}

export class OursSystem implements BenchSystem {
  readonly name = 'ours' as const;
  readonly members = ['1', '2', '3'];
  private readonly group: LocalGroup;
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
    this.group = new LocalGroup({ ...groupOptions, ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}) });
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

// The reference: a 3-member etcd (Debian's etcd-server, 3.4) on loopback,
// called with a Node grpc-js client through bench/raft/etcd-kv.proto.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import { findProjectRoot } from '../../src/protocol/index.js';
import { errorText, sleep, type BenchSystem, type MemberStatus } from './system.js';

export interface EtcdOptions {
  readonly bin: string;
  readonly dataDir: string;
  readonly clientBasePort: number;
  readonly peerBasePort: number;
  readonly valueBytes: number;
  /** Only passed when set; etcd's defaults are 100 ms and 1000 ms. */
  readonly heartbeatMs?: number;
  readonly electionMs?: number;
}

/** `etcd --version`'s first line, or undefined when the binary is missing. */
export function etcdVersion(bin: string): string | undefined {
  try {
    const out = execFileSync(bin, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return /etcd Version:\s*(\S+)/.exec(out)?.[1] ?? out.split('\n')[0];
  } catch {
    return undefined;
  }
}

/**
 * Makes sure etcd is installed: Debian's etcd-server and etcd-client with apt-get,
 * with an `apt-get update` first if the plain install fails. Returns the version,
 * or a reason it could not be installed.
 */
export function ensureEtcd(bin: string, install: boolean, say: (line: string) => void): { version?: string; reason?: string } {
  const present = etcdVersion(bin);
  if (present) return { version: present };
  if (!install) return { reason: `${bin} not found and --no-install given` };
  const apt = (args: string[]) => execFileSync('apt-get', args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  try {
    say('etcd is missing: apt-get install -y etcd-server etcd-client');
    try {
      apt(['install', '-y', 'etcd-server', 'etcd-client']);
    } catch {
      say('install failed: apt-get update, then install again');
      apt(['update']);
      apt(['install', '-y', 'etcd-server', 'etcd-client']);
    }
  } catch (error) {
    return { reason: `apt-get could not install etcd-server: ${errorText(error).split('\n')[0]}` };
  }
  const version = etcdVersion(bin);
  return version ? { version } : { reason: `${bin} still not found after apt-get install` };
}

interface EtcdClients {
  kv: grpc.Client;
  maintenance: grpc.Client;
}

type Unary = (request: object, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, response?: unknown) => void) => void;

let etcdPackage: grpc.GrpcObject | undefined;
function services(): { KV: grpc.ServiceClientConstructor; Maintenance: grpc.ServiceClientConstructor } {
  etcdPackage ??= grpc.loadPackageDefinition(
    protoLoader.loadSync(path.join(findProjectRoot(), 'bench', 'raft', 'etcd-kv.proto'), { longs: String, defaults: true, keepCase: true }),
  );
  const pkg = etcdPackage['etcdserverpb'] as grpc.GrpcObject;
  return { KV: pkg['KV'] as grpc.ServiceClientConstructor, Maintenance: pkg['Maintenance'] as grpc.ServiceClientConstructor };
}

interface RawStatus {
  header?: { member_id: string };
  leader: string;
  raft_index: string;
  raft_term: string;
  raft_applied_index: string;
}

export class EtcdSystem implements BenchSystem {
  readonly name = 'etcd' as const;
  readonly members = ['m1', 'm2', 'm3'];
  private readonly processes = new Map<string, ChildProcess>();
  private readonly clients = new Map<string, EtcdClients>();
  /** etcd's 64-bit member ids (decimal strings) to our member names, learned from Status headers. */
  private readonly names = new Map<string, string>();
  private readonly value: Buffer;
  private readonly log: WriteStream;
  private readonly token = `bench-${process.pid}-${Date.now()}`;

  constructor(private readonly options: EtcdOptions) {
    this.value = Buffer.alloc(options.valueBytes, 'v');
    this.log = createWriteStream(path.join(options.dataDir, 'members.log'));
    for (const m of this.members) this.clients.set(m, this.newClients(m));
  }

  private index(member: string): number {
    return this.members.indexOf(member);
  }

  clientAddress(member: string): string {
    return `127.0.0.1:${this.options.clientBasePort + this.index(member)}`;
  }

  private peerUrl(member: string): string {
    return `http://127.0.0.1:${this.options.peerBasePort + this.index(member)}`;
  }

  private newClients(member: string): EtcdClients {
    const { KV, Maintenance } = services();
    const address = this.clientAddress(member);
    return { kv: new KV(address, grpc.credentials.createInsecure()), maintenance: new Maintenance(address, grpc.credentials.createInsecure()) };
  }

  private args(member: string): string[] {
    const client = `http://${this.clientAddress(member)}`;
    const args = [
      '--name', member,
      '--data-dir', path.join(this.options.dataDir, member),
      '--listen-client-urls', client,
      '--advertise-client-urls', client,
      '--listen-peer-urls', this.peerUrl(member),
      '--initial-advertise-peer-urls', this.peerUrl(member),
      '--initial-cluster', this.members.map((m) => `${m}=${this.peerUrl(m)}`).join(','),
      '--initial-cluster-token', this.token,
      '--initial-cluster-state', 'new',
    ];
    if (this.options.heartbeatMs !== undefined) args.push('--heartbeat-interval', String(this.options.heartbeatMs));
    if (this.options.electionMs !== undefined) args.push('--election-timeout', String(this.options.electionMs));
    return args;
  }

  private spawnMember(member: string): void {
    if (this.processes.has(member)) return;
    const child = spawn(this.options.bin, this.args(member), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.processes.set(member, child);
    const forward = (chunk: Buffer) => this.log.write(chunk.toString('utf8').replace(/^(?=.)/gm, `${member} `));
    child.stdout?.on('data', forward);
    child.stderr?.on('data', forward);
    child.once('exit', () => this.processes.delete(member));
  }

  async start(): Promise<void> {
    for (const m of this.members) this.spawnMember(m);
    // Learn every member's id; a member answers Status once it has joined the cluster.
    const until = performance.now() + 30_000;
    for (const m of this.members) {
      while (true) {
        try {
          await this.status(m, 1_000);
          break;
        } catch (error) {
          if (!this.isRunning(m)) throw new Error(`etcd member ${m} exited while starting; see ${path.join(this.options.dataDir, 'members.log')}`, { cause: error });
          if (performance.now() > until) throw new Error(`etcd member ${m} did not answer Status within 30 s: ${errorText(error)}`, { cause: error });
          await sleep(100);
        }
      }
    }
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.members.map(async (m) => {
        const child = this.processes.get(m);
        if (!child) return;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }),
    );
    for (const c of this.clients.values()) {
      c.kv.close();
      c.maintenance.close();
    }
    await new Promise<void>((resolve) => this.log.end(() => resolve()));
  }

  private call(client: grpc.Client, method: string, request: object, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      (client as unknown as Record<string, Unary>)[method]!.call(client, request, { deadline: Date.now() + timeoutMs }, (error, response) =>
        error ? reject(error) : resolve(response),
      );
    });
  }

  private nameOf(memberId: string): string | undefined {
    if (memberId === '0') return undefined;
    return this.names.get(memberId) ?? `id:${memberId}`;
  }

  async status(member: string, timeoutMs: number): Promise<MemberStatus> {
    const s = (await this.call(this.clients.get(member)!.maintenance, 'Status', {}, timeoutMs)) as RawStatus;
    if (s.header?.member_id) this.names.set(s.header.member_id, member);
    return {
      member,
      leader: this.nameOf(s.leader),
      term: Number(s.raft_term),
      commit: Number(s.raft_index),
      applied: Number(s.raft_applied_index),
    };
  }

  async put(member: string, key: string, timeoutMs: number): Promise<void> {
    await this.call(this.clients.get(member)!.kv, 'Put', { key: Buffer.from(key), value: this.value }, timeoutMs);
  }

  async kill(member: string): Promise<void> {
    const child = this.processes.get(member);
    if (!child) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  restart(member: string): void {
    // The data dir exists, so etcd rejoins from it (--initial-cluster-state is ignored).
    this.spawnMember(member);
    const old = this.clients.get(member);
    this.clients.set(member, this.newClients(member));
    old?.kv.close();
    old?.maintenance.close();
  }

  isRunning(member: string): boolean {
    return this.processes.has(member);
  }

  pid(member: string): number | undefined {
    return this.processes.get(member)?.pid;
  }

  describe(): Record<string, unknown> {
    return {
      members: this.members.map((m) => this.clientAddress(m)),
      heartbeatMs: this.options.heartbeatMs ?? '100 (default)',
      electionTimeoutMs: this.options.electionMs ?? '1000 (default; randomized up to 2×)',
      flags: 'defaults apart from names, URLs, data dir and cluster token',
    };
  }
}

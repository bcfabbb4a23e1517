// The netns backend (root only): each node in its own network namespace,
// joined by a bridge in a hub namespace; nothing is added to the host's own
// namespace, so every process of a run (clients too) is started inside one.
//
// A cut link A->B drops, in B's namespace, packets arriving from A's
// address: silent loss, as Jepsen's iptables DROP on B's INPUT. With nft
// installed (Debian's nftables, as .ci/run installs it) the drop is an nft
// input-chain rule over a set of cut sources; without it, a policy-routing
// rule that blackholes them (`ip rule ... blackhole`). tc netem is missing
// from these kernels, so delay and reset remain the proxy backend's.
//
// With hostLink, the host's namespace gets one veth into the bridge (address
// <subnet>.1), so a harness running on the host reaches every node; no drop
// rule ever names that address, so the host is never cut off.
//
// Everything a run creates lives in namespaces named `${prefix}-...`, so
// cleanupStale(prefix) can remove it after a crash: killing the processes
// left inside them and deleting the namespaces deletes veths and bridge too.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { canonicalLinks, linkKey, parseLinkKey, type DirectedLink } from './directed-link.js';
import { DuplicateNodeError, InvalidFaultError, UnknownNodeError } from './errors.js';
import { findExecutable, requireNetns, runHostCommand, type HostCommandOptions } from './host-tools.js';
import type { PartitionBackend } from './partition-backend.js';

export interface NetnsOptions {
  /** Unique per run; names every namespace. Default `jnet<8 hex>`. */
  readonly prefix?: string;
  /** First three octets of the node subnet (a /24). Default 10.213.0; see freeSubnet(). */
  readonly subnet?: string;
  /** A veth from the host's namespace into the bridge, at <subnet>.1 (the prefix must then be at most 14 characters). */
  readonly hostLink?: boolean;
  /** How cuts drop packets. Default 'nft' when the nft command exists, else 'ip-rule'. */
  readonly dropMethod?: DropMethod;
}

export type DropMethod = 'nft' | 'ip-rule';

/** The nft table each node namespace gets; its set `cut` holds the sources it drops. */
const NFT_TABLE = 'jepsen';

interface NodeEntry {
  readonly name: string;
  readonly namespace: string;
  readonly ip: string;
  /** Rule preference of drops *from* this node, unique within every namespace. */
  readonly dropPref: number;
}

const LOCAL_TABLE_PREF = 30000;
const FIRST_DROP_PREF = 100;
const MAX_NODES = 250;

function ip(...args: string[]): Promise<string> {
  return runHostCommand(['ip', ...args]);
}

export class NetnsNetwork implements PartitionBackend {
  readonly kind = 'netns' as const;
  private readonly entries = new Map<string, NodeEntry>();
  private readonly cuts = new Set<string>();
  private readonly children = new Set<ChildProcess>();
  private closed = false;

  private constructor(
    readonly prefix: string,
    private readonly subnet: string,
    readonly dropMethod: DropMethod,
    private readonly hostLink: boolean,
  ) {}

  /** Check the host, then build hub, bridge and one namespace per node. Undone on failure. */
  static async create(nodeNames: readonly string[], options: NetnsOptions = {}): Promise<NetnsNetwork> {
    requireNetns();
    if (new Set(nodeNames).size !== nodeNames.length) throw new InvalidFaultError('netns node names must be distinct');
    if (nodeNames.length > MAX_NODES) throw new InvalidFaultError(`at most ${MAX_NODES} netns nodes, got ${nodeNames.length}`);
    const prefix = options.prefix ?? `jnet${randomBytes(4).toString('hex')}`;
    if (!/^[A-Za-z0-9_.]{1,32}$/.test(prefix)) throw new InvalidFaultError(`netns prefix "${prefix}" must be 1-32 of [A-Za-z0-9_.]`);
    if (options.hostLink === true && prefix.length > 14) throw new InvalidFaultError(`netns prefix "${prefix}" must be at most 14 characters with hostLink (it names a host interface)`);
    const dropMethod = options.dropMethod ?? (findExecutable('nft') === null ? 'ip-rule' : 'nft');
    const network = new NetnsNetwork(prefix, options.subnet ?? '10.213.0', dropMethod, options.hostLink === true);
    try {
      await network.build(nodeNames);
    } catch (error) {
      await NetnsNetwork.cleanupStale(prefix);
      throw error;
    }
    return network;
  }

  /**
   * Remove whatever a run with this prefix left behind: SIGKILL the
   * processes inside its namespaces (all started by that run), then delete
   * the namespaces. Returns the namespaces removed.
   */
  static async cleanupStale(prefix: string): Promise<string[]> {
    if (prefix.length <= 14) await ip('link', 'del', hostInterface(prefix)).catch(() => undefined);
    const listing = await ip('netns', 'list');
    const stale = listing
      .split('\n')
      .map((line) => line.split(' ')[0] ?? '')
      .filter((name) => name.startsWith(`${prefix}-`));
    for (const namespace of stale) {
      const pids = (await ip('netns', 'pids', namespace).catch(() => '')).split(/\s+/).filter(Boolean).map(Number);
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await ip('netns', 'del', namespace).catch(() => undefined);
    }
    return stale;
  }

  /**
   * A prefix that names this process: `${family}${pid}x${serial}`, so that
   * cleanupDeadRuns(family) can tell a crashed run's namespaces from a live one's.
   */
  static runPrefix(family: string, serial: number): string {
    return `${family}${process.pid}x${serial}`;
  }

  /** cleanupStale for every run of this family whose process is gone. Returns the namespaces removed. */
  static async cleanupDeadRuns(family: string): Promise<string[]> {
    const listing = await ip('netns', 'list');
    const pattern = new RegExp(`^(${family}(\\d+)x\\d+)-`);
    const dead = new Set<string>();
    for (const line of listing.split('\n')) {
      const match = pattern.exec(line.split(' ')[0] ?? '');
      if (match !== null && !processAlive(Number(match[2]))) dead.add(match[1]!);
    }
    const removed: string[] = [];
    for (const prefix of dead) removed.push(...(await NetnsNetwork.cleanupStale(prefix)));
    return removed;
  }

  /** A 10.213.X /24 that no address or route of the host's namespace uses yet. */
  static async freeSubnet(): Promise<string> {
    const used = `${await ip('-o', '-4', 'addr', 'show')}\n${await ip('-4', 'route', 'show')}`;
    for (let third = 0; third < 256; third++) {
      const subnet = `10.213.${third}`;
      if (!used.includes(`${subnet}.`)) return subnet;
    }
    throw new InvalidFaultError('every 10.213.X.0/24 is in use on this host');
  }

  nodes(): string[] {
    return [...this.entries.keys()];
  }

  /** The host's own address on the bridge (with hostLink). */
  get hostIp(): string {
    if (!this.hostLink) throw new InvalidFaultError('this netns network has no host link');
    return `${this.subnet}.1`;
  }

  /** The node's address inside the run's subnet; servers listen on it, peers dial it. */
  ipOf(node: string): string {
    return this.entry(node).ip;
  }

  namespaceOf(node: string): string {
    return this.entry(node).namespace;
  }

  /** `ip netns exec` argv prefix, for callers that build their own spawn. */
  execPrefix(node: string): string[] {
    return ['ip', 'netns', 'exec', this.entry(node).namespace];
  }

  /** Start a process inside the node's namespace; close() kills it by pid. */
  spawn(node: string, command: string, args: readonly string[] = [], options: SpawnOptions = {}): ChildProcess {
    const [exe, ...prefixArgs] = this.execPrefix(node) as [string, ...string[]];
    const child = spawn(exe, [...prefixArgs, command, ...args], options);
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** Run a command inside the node's namespace to completion; its stdout. */
  exec(node: string, command: string, args: readonly string[] = [], options: HostCommandOptions = {}): Promise<string> {
    return runHostCommand([...this.execPrefix(node), command, ...args], options);
  }

  async cut(links: readonly DirectedLink[]): Promise<void> {
    for (const link of links) {
      this.entry(link.from);
      this.entry(link.to);
      if (link.from === link.to) throw new InvalidFaultError(`cannot cut ${link.from} from itself`);
    }
    for (const link of links) {
      const key = linkKey(link);
      if (this.cuts.has(key)) continue;
      await this.setDrop(this.entry(link.from), this.entry(link.to), true);
      this.cuts.add(key);
    }
  }

  cutLinks(): DirectedLink[] {
    return canonicalLinks([...this.cuts].map(parseLinkKey));
  }

  async heal(): Promise<void> {
    for (const key of [...this.cuts]) {
      const link = parseLinkKey(key);
      await this.setDrop(this.entry(link.from), this.entry(link.to), false);
      this.cuts.delete(key);
    }
  }

  /** Kill the processes this object started, then delete every namespace of the run. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(
      [...this.children].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    await NetnsNetwork.cleanupStale(this.prefix);
  }

  /** Start or stop dropping, in `to`'s namespace, what `from` sends. */
  private async setDrop(from: NodeEntry, to: NodeEntry, drop: boolean): Promise<void> {
    if (this.dropMethod === 'nft') {
      await this.exec(to.name, 'nft', [drop ? 'add' : 'delete', 'element', 'inet', NFT_TABLE, 'cut', `{ ${from.ip} }`]);
    } else if (drop) {
      await ip('-n', to.namespace, 'rule', 'add', 'pref', String(from.dropPref), 'from', from.ip, 'iif', 'eth0', 'blackhole');
    } else {
      await ip('-n', to.namespace, 'rule', 'del', 'pref', String(from.dropPref));
    }
  }

  private async build(nodeNames: readonly string[]): Promise<void> {
    const hub = `${this.prefix}-hub`;
    await ip('netns', 'add', hub);
    await ip('-n', hub, 'link', 'add', 'br0', 'type', 'bridge');
    await ip('-n', hub, 'link', 'set', 'br0', 'up');
    if (this.hostLink) await this.addHostLink(hub);
    for (const [index, name] of nodeNames.entries()) await this.addNode(name, index, hub);
  }

  private async addHostLink(hub: string): Promise<void> {
    const name = hostInterface(this.prefix);
    await ip('link', 'add', name, 'type', 'veth', 'peer', 'name', 'vh', 'netns', hub);
    await ip('-n', hub, 'link', 'set', 'vh', 'master', 'br0', 'up');
    await ip('addr', 'add', `${this.subnet}.1/24`, 'dev', name);
    await ip('link', 'set', name, 'up');
  }

  private async addNode(name: string, index: number, hub: string): Promise<void> {
    if (this.entries.has(name)) throw new DuplicateNodeError(name);
    const entry: NodeEntry = {
      name,
      namespace: `${this.prefix}-n${index}`,
      ip: `${this.subnet}.${index + 2}`,
      dropPref: FIRST_DROP_PREF + index,
    };
    const ns = entry.namespace;
    await ip('netns', 'add', ns);
    await ip('-n', hub, 'link', 'add', `v${index}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    await ip('-n', hub, 'link', 'set', `v${index}`, 'master', 'br0', 'up');
    await ip('-n', ns, 'addr', 'add', `${entry.ip}/24`, 'dev', 'eth0');
    await ip('-n', ns, 'link', 'set', 'eth0', 'up');
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
    // The local table is consulted first by default (pref 0), which would
    // accept packets for our address before any drop rule; move it after them.
    await ip('-n', ns, 'rule', 'add', 'pref', String(LOCAL_TABLE_PREF), 'lookup', 'local');
    await ip('-n', ns, 'rule', 'del', 'pref', '0');
    this.entries.set(name, entry);
    if (this.dropMethod === 'nft') {
      await this.exec(name, 'nft', [
        `add table inet ${NFT_TABLE}; add set inet ${NFT_TABLE} cut { type ipv4_addr; }; ` +
          `add chain inet ${NFT_TABLE} input { type filter hook input priority 0; policy accept; }; ` +
          `add rule inet ${NFT_TABLE} input iifname "eth0" ip saddr @cut drop`,
      ]);
    }
  }

  private entry(node: string): NodeEntry {
    const entry = this.entries.get(node);
    if (!entry) throw new UnknownNodeError(node);
    return entry;
  }
}

/** The host end of the host link (interface names are at most 15 bytes). */
function hostInterface(prefix: string): string {
  return `${prefix}h`;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

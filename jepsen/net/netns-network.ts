// The netns backend (root only): each node in its own network namespace,
// joined by a bridge in a hub namespace; nothing is added to the host's own
// namespace, so every process of a run (clients too) is started inside one.
//
// A cut link A->B is a policy-routing rule in B's namespace that blackholes
// packets arriving from A's address: silent loss, as Jepsen's iptables DROP
// on B's INPUT. (nft and iptables are not installed on these hosts; tc netem
// is not available either, so delay and reset remain the proxy backend's.)
//
// Everything a run creates lives in namespaces named `${prefix}-...`, so
// cleanupStale(prefix) can remove it after a crash: killing the processes
// left inside them and deleting the namespaces deletes veths and bridge too.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { canonicalLinks, linkKey, parseLinkKey, type DirectedLink } from './directed-link.js';
import { DuplicateNodeError, InvalidFaultError, UnknownNodeError } from './errors.js';
import { requireNetns, runHostCommand, type HostCommandOptions } from './host-tools.js';
import type { PartitionBackend } from './partition-backend.js';

export interface NetnsOptions {
  /** Unique per run; names every namespace. Default `jnet<8 hex>`. */
  readonly prefix?: string;
  /** First three octets of the node subnet (a /24). Default 10.213.0. */
  readonly subnet?: string;
}

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

  private constructor(readonly prefix: string, private readonly subnet: string) {}

  /** Check the host, then build hub, bridge and one namespace per node. Undone on failure. */
  static async create(nodeNames: readonly string[], options: NetnsOptions = {}): Promise<NetnsNetwork> {
    requireNetns();
    if (new Set(nodeNames).size !== nodeNames.length) throw new InvalidFaultError('netns node names must be distinct');
    if (nodeNames.length > MAX_NODES) throw new InvalidFaultError(`at most ${MAX_NODES} netns nodes, got ${nodeNames.length}`);
    const prefix = options.prefix ?? `jnet${randomBytes(4).toString('hex')}`;
    if (!/^[A-Za-z0-9_.]{1,32}$/.test(prefix)) throw new InvalidFaultError(`netns prefix "${prefix}" must be 1-32 of [A-Za-z0-9_.]`);
    const network = new NetnsNetwork(prefix, options.subnet ?? '10.213.0');
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

  nodes(): string[] {
    return [...this.entries.keys()];
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
      const from = this.entry(link.from);
      const to = this.entry(link.to);
      await ip('-n', to.namespace, 'rule', 'add', 'pref', String(from.dropPref), 'from', from.ip, 'iif', 'eth0', 'blackhole');
      this.cuts.add(key);
    }
  }

  cutLinks(): DirectedLink[] {
    return canonicalLinks([...this.cuts].map(parseLinkKey));
  }

  async heal(): Promise<void> {
    for (const key of [...this.cuts]) {
      const link = parseLinkKey(key);
      const from = this.entry(link.from);
      const to = this.entry(link.to);
      await ip('-n', to.namespace, 'rule', 'del', 'pref', String(from.dropPref));
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

  private async build(nodeNames: readonly string[]): Promise<void> {
    const hub = `${this.prefix}-hub`;
    await ip('netns', 'add', hub);
    await ip('-n', hub, 'link', 'add', 'br0', 'type', 'bridge');
    await ip('-n', hub, 'link', 'set', 'br0', 'up');
    for (const [index, name] of nodeNames.entries()) await this.addNode(name, index, hub);
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
  }

  private entry(node: string): NodeEntry {
    const entry = this.entries.get(node);
    if (!entry) throw new UnknownNodeError(node);
    return entry;
  }
}

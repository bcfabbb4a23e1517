// Carries out harness fault events on the cluster under test: network cuts
// and delays on the proxies, SIGKILL/restart and SIGSTOP/SIGCONT of routers,
// storage nodes and PostgreSQL, clock offsets, and the role-targeted faults
// (resolved at start, remembered for the stop). healAll undoes everything.
import { applyNetworkEvent, isolateCuts, type Fault, type Prng } from '../../net/index.js';
import { ClockFaker } from './clock-faker.js';
import { describeFault, type HarnessEvent, type HarnessFault, type TargetRole } from './harness-nemesis.js';
import { POSTGRES_NODE, type TestCluster } from '../test-cluster.js';
import type { ClusterObserver } from '../cluster-observer.js';

export interface AppliedFault {
  readonly description: string;
  /** The nodes it hit (resolved roles included). */
  readonly nodes: readonly string[];
}

export class FaultExecutor {
  private readonly killed = new Set<string>();
  private readonly paused = new Set<string>();
  private readonly clocked = new Set<string>();
  private readonly resolved = new Map<HarnessFault, string[]>();

  constructor(
    private readonly cluster: TestCluster,
    private readonly observer: ClusterObserver,
    private readonly rng: Prng,
    private readonly clock: ClockFaker | undefined,
    private readonly keys: () => readonly string[],
  ) {}

  async apply(event: HarnessEvent): Promise<AppliedFault> {
    const { fault } = event;
    if (isPartition(fault)) {
      const cuts = await applyNetworkEvent(this.cluster.network, { ...event, fault }, { leader: () => this.observer.leader() });
      const nodes = [...new Set(cuts.flatMap((c) => [c.from, c.to]))];
      const isolated = fault.kind === 'partition-leader' && event.op === 'start' ? nodes.filter((n) => cuts.every((c) => c.from === n || c.to === n)) : [];
      const detail = event.op === 'start' ? ` [${isolated.length > 0 ? `isolated ${isolated.join(',')}; ` : ''}${cuts.length} links cut]` : '';
      return { description: `${describeFault(fault)}${detail}`, nodes };
    }
    const nodes = event.op === 'start' ? await this.resolve(fault) : (this.resolved.get(fault) ?? []);
    if (event.op === 'start') this.resolved.set(fault, nodes);
    else this.resolved.delete(fault);
    await this.carryOut(fault, event.op, nodes);
    return { description: `${describeFault(fault)}${nodes.length > 0 ? ` [${nodes.join(',')}]` : ''}`, nodes };
  }

  /** Heals the network, resumes paused processes, restarts killed ones, resets clocks. */
  async healAll(): Promise<void> {
    await this.cluster.network.heal();
    for (const name of this.paused) this.cluster.process(name).resume();
    this.paused.clear();
    await Promise.all([...this.killed].map((name) => this.restart(name)));
    await this.cluster.disks?.freeAll();
    for (const name of this.clocked) this.clock?.setOffset(name, 0);
    this.clocked.clear();
    this.resolved.clear();
  }

  private async carryOut(fault: HarnessFault, op: 'start' | 'stop', nodes: readonly string[]): Promise<void> {
    switch (fault.kind) {
      case 'kill':
      case 'kill-role':
        return op === 'start' ? this.killAll(nodes) : this.restartAll(nodes);
      case 'pause':
      case 'pause-role':
        for (const name of nodes) {
          if (op === 'start') await this.cluster.process(name).pause();
          else this.cluster.process(name).resume();
          if (op === 'start') this.paused.add(name);
          else this.paused.delete(name);
        }
        return;
      case 'isolate-role':
        if (op === 'start') await this.cluster.network.cut(nodes.flatMap((n) => isolateCuts(n, this.cluster.network.nodes())));
        else await this.cluster.network.heal();
        return;
      case 'clock':
        if (this.clock === undefined) throw new Error('clock fault without a clock faker');
        for (const name of nodes) {
          this.clock.setOffset(name, op === 'start' ? fault.offsetMs : 0);
          if (op === 'start') this.clocked.add(name);
          else this.clocked.delete(name);
        }
        return;
      case 'delay-links': {
        if (op === 'stop') return this.cluster.network.heal();
        const from = new Set(this.cluster.routerNames);
        const to = new Set(fault.to === 'postgres' ? [POSTGRES_NODE] : this.cluster.storageNames);
        return this.cluster.network.delay(fault.delayMs, (link) => from.has(link.from) && to.has(link.to));
      }
      case 'cut-storage-links':
        if (op === 'stop') return this.cluster.network.heal();
        return this.cluster.network.cut(nodes.flatMap((n) => this.cluster.storageNames.filter((s) => !nodes.includes(s)).flatMap((s) => [{ from: n, to: s }, { from: s, to: n }])));
      case 'fill-disk':
        return this.fillDisks(op, nodes);
      case 'restart-all-routers':
        if (op === 'start') {
          await this.killAll(this.cluster.routerNames);
          await this.restartAll(this.cluster.routerNames);
        }
        return;
      case 'partition':
      case 'partition-leader':
        return;
    }
  }

  private async fillDisks(op: 'start' | 'stop', nodes: readonly string[]): Promise<void> {
    const disks = this.cluster.disks;
    if (disks === undefined) throw new Error('a disk-full fault needs size-limited storage folders (storageDiskBytes)');
    for (const name of nodes) {
      if (op === 'start') await disks.fill(this.cluster.storageDir(name));
      else await disks.free(this.cluster.storageDir(name));
    }
  }

  private async killAll(nodes: readonly string[]): Promise<void> {
    for (const name of nodes) {
      this.killed.add(name);
      await this.cluster.process(name).kill();
    }
  }

  private async restartAll(nodes: readonly string[]): Promise<void> {
    await Promise.all(nodes.map((name) => this.restart(name)));
  }

  private async restart(name: string): Promise<void> {
    if (!this.killed.has(name)) return;
    this.killed.delete(name);
    await this.cluster.process(name).start();
  }

  private async resolve(fault: HarnessFault): Promise<string[]> {
    switch (fault.kind) {
      case 'kill':
      case 'pause':
      case 'clock':
        return [...fault.nodes];
      case 'kill-role':
      case 'pause-role':
      case 'isolate-role':
      case 'cut-storage-links':
      case 'fill-disk':
        return this.resolveRole(fault.role);
      default:
        return [];
    }
  }

  private async resolveRole(role: TargetRole): Promise<string[]> {
    const routers = this.cluster.routerNames;
    const storages = this.cluster.storageNames;
    const majority = (names: readonly string[]): number => Math.floor(names.length / 2) + 1;
    switch (role) {
      case 'postgres':
        return [POSTGRES_NODE];
      case 'one-router':
        return [this.rng.pick(routers)];
      case 'leader-router': {
        const leader = await this.observer.leader();
        return [leader ?? this.rng.pick(routers)];
      }
      case 'router-majority':
        return this.rng.shuffle(routers).slice(0, majority(routers));
      case 'all-routers':
        return [...routers];
      case 'primary-storage':
        return [await this.commonPrimary(storages)];
      case 'one-secondary-storage': {
        const primary = await this.commonPrimary(storages);
        return [this.rng.pick(storages.filter((s) => s !== primary))];
      }
      case 'all-secondary-storages': {
        const primary = await this.commonPrimary(storages);
        return storages.filter((s) => s !== primary);
      }
      case 'storage-majority': {
        const primary = await this.commonPrimary(storages);
        return [primary, ...this.rng.shuffle(storages.filter((s) => s !== primary))].slice(0, majority(storages));
      }
    }
  }

  /** The storage that is primary of the most live keys (the first storage when none is known). */
  private async commonPrimary(storages: readonly string[]): Promise<string> {
    const primaries = await this.observer.primaries(this.keys().slice(-8));
    const counts = new Map<string, number>();
    for (const p of primaries) counts.set(p, (counts.get(p) ?? 0) + 1);
    const best = [...counts].sort((a, b) => b[1] - a[1])[0];
    return best?.[0] ?? storages[0]!;
  }
}

function isPartition(fault: HarnessFault): fault is Extract<Fault, { kind: 'partition' | 'partition-leader' }> {
  return fault.kind === 'partition' || fault.kind === 'partition-leader';
}

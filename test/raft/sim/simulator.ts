import {
  NONE,
  RaftError,
  SeededPrng,
  type Entry,
  type NodeId,
  type ReadState,
} from '../../../src/raft/core/index.js';
import { contextKey } from '../../../src/raft/core/read-only.js';
import { InvariantViolation, SafetyChecker } from './invariants.js';
import { shuffle, SimNetwork } from './sim-network.js';
import { encodeCommand, SimNode, type SimNodeHooks } from './sim-node.js';

export interface SimOptions {
  readonly seed: number;
  readonly nodes: 3 | 5;
  /** Ticks of chaos before the network heals. */
  readonly chaosTicks: number;
  /** After healing, a leader must commit a new proposal within this many ticks. */
  readonly livenessTicks: number;
  readonly electionTicks: number;
}

export interface SimResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly error: string | undefined;
  readonly ticks: number;
  readonly applied: number;
  readonly readsChecked: number;
  readonly crashes: number;
  readonly leaders: number;
  readonly confChanges: number;
  readonly snapshotsSent: number;
  readonly trace: readonly string[];
}

const TRACE_LIMIT = 400;

/**
 * A seeded, deterministic run of a Raft group: random proposals, reads,
 * membership changes, transfers, crashes, compaction and network faults,
 * with every safety invariant checked after every tick, then a healed
 * network in which the group must make progress.
 */
export class Simulator {
  private readonly prng: SeededPrng;
  private readonly network: SimNetwork;
  private readonly checker = new SafetyChecker();
  private readonly nodes = new Map<NodeId, SimNode>();
  private nowTick = 0;
  private nextNodeId: number;
  private readSeq = 0;
  private proposalSeq = 0;
  private failure: unknown;
  private readonly trace: string[] = [];
  private readonly stats = { crashes: 0, confChanges: 0, snapshotsSent: 0 };
  private readonly downUntil = new Map<NodeId, number>();
  private readonly ackedAtProposer = new Set<string>();

  constructor(private readonly options: SimOptions) {
    this.prng = new SeededPrng(options.seed);
    this.network = new SimNetwork(new SeededPrng(options.seed ^ 0x5eed));
    const voters = Array.from({ length: options.nodes }, (_, i) => i + 1);
    for (const id of voters) this.nodes.set(id, SimNode.bootstrap(id, voters, this.raftOptions(), this.hooks(), this.nodeSeed(id)));
    this.nextNodeId = options.nodes + 1;
  }

  private raftOptions() {
    return {
      electionTicks: this.options.electionTicks,
      heartbeatTicks: 1,
      maxMsgBytes: 64,
      maxInflightMsgs: 4,
      snapshotChunkBytes: 64,
      maxUncommittedBytes: 16 * 1024,
      // One seed in four runs without CheckQuorum's lease, where only the
      // ReadIndex quorum round keeps a deposed leader from serving stale reads.
      checkQuorum: this.options.seed % 4 !== 3,
    };
  }

  private nodeSeed(id: NodeId): number {
    return (this.options.seed * 31 + id * 7919 + this.nowTick) >>> 0;
  }

  private hooks(): SimNodeHooks {
    return {
      onApplied: (node: NodeId, entry: Entry) => {
        this.checker.onApplied(node, entry);
      },
      onReadState: (node: NodeId, readState: ReadState) => {
        this.checker.readAnswered(node, readState, contextKey(readState.context));
      },
      onFailure: (error: unknown) => {
        this.failure ??= error;
      },
    };
  }

  private log(line: string): void {
    this.trace.push(`t${this.nowTick} ${line}`);
    if (this.trace.length > TRACE_LIMIT) this.trace.shift();
  }

  async run(): Promise<SimResult> {
    let error: string | undefined;
    try {
      this.network.faults = { dropRate: 0.05, duplicateRate: 0.02, maxDelayTicks: 3 };
      while (this.nowTick < this.options.chaosTicks) await this.step(true);
      this.heal();
      await this.checkLiveness();
    } catch (e) {
      error = e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e);
    }
    return {
      seed: this.options.seed,
      ok: error === undefined,
      error,
      ticks: this.nowTick,
      applied: this.checker.appliedCount,
      readsChecked: this.checker.readsChecked,
      crashes: this.stats.crashes,
      leaders: this.countLeadersSeen(),
      confChanges: this.stats.confChanges,
      snapshotsSent: this.stats.snapshotsSent,
      trace: this.trace,
    };
  }

  private countLeadersSeen(): number {
    return [...this.nodes.values()].filter((n) => n.up && n.rawNode.status().role === 'leader').length;
  }

  private async step(chaos: boolean): Promise<void> {
    this.nowTick++;
    if (chaos) this.injectChaos();
    for (const node of shuffle([...this.nodes.values()], this.prng)) if (node.up) node.rawNode.tick();
    this.deliver();
    this.processReadies(chaos);
    // Let store rejections (validation errors) surface before checking.
    await Promise.resolve();
    if (this.failure !== undefined) throw this.failure instanceof Error ? this.failure : new Error(String(this.failure));
    this.checker.check([...this.nodes.values()]);
  }

  private deliver(): void {
    for (const m of this.network.takeDue(this.nowTick)) {
      const node = this.nodes.get(m.to);
      if (!node || !node.up) continue;
      if (m.type === 'snap') this.stats.snapshotsSent++;
      try {
        node.rawNode.step(m);
      } catch (e) {
        // A forwarded proposal or read the receiver cannot take is dropped, as the driver does.
        if (!(e instanceof RaftError) || e.code === 'RAFT_INVARIANT') throw e;
      }
    }
  }

  private processReadies(chaos: boolean): void {
    for (const node of shuffle([...this.nodes.values()], this.prng)) {
      if (!node.beginReady()) continue;
      if (chaos && this.prng.nextFloat() < 0.002) {
        // Crash between the disk write and its sync: the Ready is lost.
        this.crash(node, 'after save, before sync');
        continue;
      }
      for (const m of node.finishReady()) this.network.send(m, this.nowTick);
    }
  }

  // ---- chaos ------------------------------------------------------------

  private injectChaos(): void {
    const roll = this.prng.nextFloat();
    if (roll < 0.25) this.propose();
    else if (roll < 0.35) this.read();
    else if (roll < 0.36) this.changeMembership();
    else if (roll < 0.365) this.transfer();
    else if (roll < 0.375) this.crashRandom();
    else if (roll < 0.39) this.repartition();
    else if (roll < 0.4) this.compactRandom();
    this.restartDue();
  }

  private liveNodes(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.up && !n.removed);
  }

  private pick<T>(items: readonly T[]): T | undefined {
    return items.length === 0 ? undefined : items[this.prng.nextInt(items.length)];
  }

  private leader(): SimNode | undefined {
    return this.liveNodes().find((n) => n.rawNode.status().role === 'leader');
  }

  private propose(target?: SimNode): string | undefined {
    const node = target ?? this.pick(this.liveNodes());
    if (!node) return undefined;
    const value = `v${this.options.seed}-${this.proposalSeq++}`;
    try {
      node.rawNode.propose([encodeCommand(`k${this.prng.nextInt(4)}`, value)]);
      return value;
    } catch (e) {
      if (!(e instanceof RaftError) || e.code === 'RAFT_INVARIANT') throw e;
      return undefined;
    }
  }

  private read(): void {
    // Half the reads go to nodes that believe they lead: a deposed leader
    // answering from its own commit index is the classic stale read.
    const leaders = this.liveNodes().filter((n) => n.rawNode.status().role === 'leader');
    const node = this.prng.nextFloat() < 0.5 && leaders.length > 0 ? this.pick(leaders) : this.pick(this.liveNodes());
    if (!node) return;
    const context = new TextEncoder().encode(`read-${this.readSeq++}`);
    try {
      node.rawNode.readIndex(context);
      this.checker.readIssued(node.id, contextKey(context), this.nowTick);
    } catch (e) {
      if (!(e instanceof RaftError) || e.code === 'RAFT_INVARIANT') throw e;
    }
  }

  private changeMembership(): void {
    const leader = this.leader();
    if (!leader) return;
    const conf = leader.rawNode.status().confState;
    const choice = this.prng.nextInt(3);
    try {
      if (choice === 0 && conf.voters.length + conf.learners.length < 6) {
        const id = this.nextNodeId++;
        this.nodes.set(id, SimNode.bootstrap(id, [], this.raftOptions(), this.hooks(), this.nodeSeed(id)));
        leader.rawNode.proposeConfChange({ type: 'addLearner', nodeId: id });
        this.log(`propose addLearner ${id} via ${leader.id}`);
      } else if (choice === 1 && conf.learners.length > 0) {
        const id = this.pick(conf.learners)!;
        leader.rawNode.proposeConfChange({ type: 'promote', nodeId: id });
        this.log(`propose promote ${id} via ${leader.id}`);
      } else if (choice === 2 && conf.voters.length > 3) {
        const id = this.pick(conf.voters)!;
        leader.rawNode.proposeConfChange({ type: 'remove', nodeId: id });
        this.log(`propose remove ${id} via ${leader.id}`);
      } else return;
      this.stats.confChanges++;
    } catch (e) {
      if (!(e instanceof RaftError) || e.code === 'RAFT_INVARIANT') throw e;
    }
  }

  private transfer(): void {
    const leader = this.leader();
    if (!leader) return;
    const target = this.pick(leader.rawNode.status().confState.voters.filter((id) => id !== leader.id));
    if (target === undefined) return;
    leader.rawNode.transferLeadership(target);
    this.log(`transfer ${leader.id} -> ${target}`);
  }

  private crashRandom(): void {
    const live = this.liveNodes();
    // Keep crashes survivable often enough for progress, but allow majorities to go down.
    const node = this.pick(live);
    if (node) this.crash(node, 'random');
  }

  private crash(node: SimNode, why: string): void {
    node.crash();
    this.network.dropNode(node.id);
    this.stats.crashes++;
    this.downUntil.set(node.id, this.nowTick + 1 + this.prng.nextInt(this.options.electionTicks * 3));
    this.log(`crash ${node.id} (${why})`);
  }

  private restartDue(): void {
    for (const [id, until] of this.downUntil) {
      if (until > this.nowTick) continue;
      this.downUntil.delete(id);
      this.restart(id);
    }
  }

  private restart(id: NodeId): void {
    const node = this.nodes.get(id);
    if (!node || node.up) return;
    node.restart(this.nodeSeed(id));
    this.checker.onSnapshotRestored(id, node.sm.appliedIndex);
    this.log(`restart ${id} (applied ${node.sm.appliedIndex}, term ${node.rawNode.status().term})`);
  }

  private repartition(): void {
    const roll = this.prng.nextFloat();
    const leader = this.leader();
    if (roll < 0.3) this.network.heal();
    else if (roll < 0.6 && leader) this.network.isolate(leader.id, [...this.nodes.keys()]);
    else this.network.randomPartition([...this.nodes.keys()]);
    // Now and then, long delays: stale messages arriving terms later are
    // what expose commit-index and read-lease mistakes.
    const slow = this.prng.nextFloat() < 0.3;
    this.network.faults = { ...this.network.faults, maxDelayTicks: slow ? 1 + this.prng.nextInt(this.options.electionTicks * 2) : 3 };
    this.log(`network ${this.network.partitionDescription}${slow ? ` slow ${this.network.faults.maxDelayTicks}` : ''}`);
  }

  private compactRandom(): void {
    const node = this.pick(this.liveNodes());
    node?.compact(this.prng.nextInt(8));
  }

  // ---- liveness -----------------------------------------------------------

  private heal(): void {
    this.network.heal();
    this.network.faults = { dropRate: 0, duplicateRate: 0, maxDelayTicks: 1 };
    for (const id of [...this.downUntil.keys()]) {
      this.downUntil.delete(id);
      this.restart(id);
    }
    this.log('healed');
  }

  /** After healing, a leader emerges and a fresh proposal is applied everywhere it can be. */
  private async checkLiveness(): Promise<void> {
    const deadline = this.nowTick + this.options.livenessTicks;
    let proposed: { value: string; index: number } | undefined;
    while (this.nowTick < deadline) {
      await this.step(false);
      const leader = this.leader();
      if (!leader || leader.rawNode.status().leadTransferee !== NONE) continue;
      if (!proposed) {
        const value = this.propose(leader);
        if (value !== undefined) proposed = { value, index: leader.rawNode.status().lastIndex };
        continue;
      }
      if (leader.sm.appliedIndex >= proposed.index && leader.rawNode.status().term === leader.rawNode.raft.log.term(proposed.index)) {
        this.ackedAtProposer.add(proposed.value);
        return;
      }
      if (leader.rawNode.raft.log.term(proposed.index) === undefined || leader.sm.appliedIndex >= proposed.index) {
        proposed = undefined; // superseded by another leader's log; propose again
      }
    }
    const roles = [...this.nodes.values()].map((n) => `${n.id}:${n.up ? n.rawNode.status().role : 'down'}@${n.rawNode.status().term}`);
    throw new InvariantViolation(`liveness: no proposal committed within ${this.options.livenessTicks} ticks of healing (${roles.join(' ')})`);
  }
}

export function describeResult(result: SimResult): string {
  return (
    `seed ${result.seed}: ${result.ok ? 'ok' : 'FAILED'} ticks=${result.ticks} applied=${result.applied} ` +
    `reads=${result.readsChecked} crashes=${result.crashes} confChanges=${result.confChanges} snapshotChunks=${result.snapshotsSent}`
  );
}

export { InvariantViolation };

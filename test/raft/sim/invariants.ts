import type { Entry, NodeId, ReadState } from '../../../src/raft/core/index.js';
import type { SimNode } from './sim-node.js';

export class InvariantViolation extends Error {
  constructor(detail: string) {
    super(`invariant violated: ${detail}`);
  }
}

function sameEntry(a: Entry, b: { term: number; data: Uint8Array }): boolean {
  if (a.term !== b.term || a.data.length !== b.data.length) return false;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) return false;
  return true;
}

interface PendingRead {
  readonly node: NodeId;
  readonly minIndex: number;
  readonly issuedTick: number;
}

/**
 * Raft's safety properties, checked after every simulator step against
 * state gathered over the whole run.
 */
export class SafetyChecker {
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** The one entry committed at each index, as first seen. */
  private readonly committed = new Map<number, Entry>();
  private maxCommitted = 0;
  private readonly checkedCommit = new Map<NodeId, number>();
  private readonly durableCommit = new Map<NodeId, number>();
  private readonly lastApplied = new Map<NodeId, number>();
  private readonly pendingReads = new Map<string, PendingRead>();
  readsChecked = 0;
  appliedCount = 0;

  /** Global commit index right now: a read issued now must see at least this. */
  globalCommit(): number {
    return this.maxCommitted;
  }

  readIssued(node: NodeId, contextKey: string, nowTick: number): void {
    this.pendingReads.set(contextKey, { node, minIndex: this.maxCommitted, issuedTick: nowTick });
  }

  readAnswered(node: NodeId, readState: ReadState, contextKey: string): void {
    const pending = this.pendingReads.get(contextKey);
    if (!pending) return;
    this.pendingReads.delete(contextKey);
    if (pending.node !== node) throw new InvariantViolation(`read ${contextKey} issued at ${pending.node} answered at ${node}`);
    // Linearizability of ReadIndex: every write committed before the read
    // began is at or below the read point.
    if (readState.index < pending.minIndex) {
      throw new InvariantViolation(
        `read at node ${node} got index ${readState.index} but ${pending.minIndex} was committed when it was issued`,
      );
    }
    this.readsChecked++;
  }

  onApplied(node: NodeId, entry: Entry): void {
    const last = this.lastApplied.get(node) ?? 0;
    if (entry.index <= last) throw new InvariantViolation(`node ${node} applied ${entry.index} again (last ${last})`);
    this.lastApplied.set(node, entry.index);
    const canonical = this.committed.get(entry.index);
    if (canonical && !sameEntry(entry, canonical)) {
      throw new InvariantViolation(`node ${node} applied a different entry at ${entry.index} (term ${entry.term} vs ${canonical.term})`);
    }
    this.appliedCount++;
  }

  onSnapshotRestored(node: NodeId, index: number): void {
    this.lastApplied.set(node, Math.max(this.lastApplied.get(node) ?? 0, index));
  }

  check(nodes: readonly SimNode[]): void {
    for (const node of nodes) {
      if (!node.up) continue;
      this.checkLeader(node);
      this.checkCommitted(node);
      this.checkDurableCommit(node);
    }
    this.checkLogMatching(nodes.filter((n) => n.up));
  }

  private checkLeader(node: SimNode): void {
    const status = node.rawNode.status();
    if (status.role !== 'leader') return;
    const known = this.leaderOfTerm.get(status.term);
    if (known !== undefined && known !== node.id) {
      throw new InvariantViolation(`two leaders in term ${status.term}: ${known} and ${node.id}`);
    }
    if (known === undefined) {
      this.leaderOfTerm.set(status.term, node.id);
      this.checkLeaderCompleteness(node);
    }
  }

  /** A new leader holds every entry committed before it was elected. */
  private checkLeaderCompleteness(node: SimNode): void {
    const log = node.rawNode.raft.log;
    for (let i = Math.max(1, log.firstIndex()); i <= this.maxCommitted; i++) {
      const canonical = this.committed.get(i);
      if (canonical && log.term(i) !== canonical.term) {
        throw new InvariantViolation(`leader ${node.id} of term ${node.rawNode.status().term} lacks committed entry ${i}`);
      }
    }
  }

  private checkCommitted(node: SimNode): void {
    const log = node.rawNode.raft.log;
    const from = Math.max((this.checkedCommit.get(node.id) ?? 0) + 1, log.firstIndex());
    for (let i = from; i <= log.committed; i++) {
      const entry = log.slice(i, i + 1, Number.MAX_SAFE_INTEGER)[0]!;
      const canonical = this.committed.get(i);
      if (!canonical) this.committed.set(i, entry);
      else if (!sameEntry(entry, canonical)) {
        throw new InvariantViolation(`node ${node.id} committed a different entry at ${i}`);
      }
    }
    this.checkedCommit.set(node.id, Math.max(this.checkedCommit.get(node.id) ?? 0, log.committed));
    this.maxCommitted = Math.max(this.maxCommitted, log.committed);
  }

  /** The commit index a node has made durable never falls, and a running node never shows less. */
  private checkDurableCommit(node: SimNode): void {
    const durable = node.store.durableImage().hardState.commit;
    const before = this.durableCommit.get(node.id) ?? 0;
    if (durable < before) throw new InvariantViolation(`node ${node.id} durable commit fell from ${before} to ${durable}`);
    this.durableCommit.set(node.id, durable);
    const live = node.rawNode.raft.log.committed;
    if (live < durable) throw new InvariantViolation(`node ${node.id} commit ${live} below its durable ${durable}`);
  }

  /** Log matching on the uncommitted tails (committed prefixes are checked against `committed`). */
  private checkLogMatching(nodes: readonly SimNode[]): void {
    for (let a = 0; a < nodes.length; a++) {
      for (let b = a + 1; b < nodes.length; b++) this.checkPair(nodes[a]!, nodes[b]!);
    }
  }

  private checkPair(x: SimNode, y: SimNode): void {
    const lx = x.rawNode.raft.log;
    const ly = y.rawNode.raft.log;
    const top = Math.min(lx.lastIndex(), ly.lastIndex());
    const bottom = Math.max(lx.firstIndex(), ly.firstIndex(), Math.min(lx.committed, ly.committed) + 1);
    let matched = false;
    for (let i = top; i >= bottom; i--) {
      const tx = lx.term(i);
      const ty = ly.term(i);
      if (!matched && tx !== undefined && tx === ty) matched = true;
      if (matched) {
        const ex = lx.slice(i, i + 1, Number.MAX_SAFE_INTEGER)[0]!;
        const ey = ly.slice(i, i + 1, Number.MAX_SAFE_INTEGER)[0]!;
        if (!sameEntry(ex, ey)) throw new InvariantViolation(`log matching broken between ${x.id} and ${y.id} at ${i}`);
      }
    }
  }
}

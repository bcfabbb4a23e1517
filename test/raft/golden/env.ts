// The interaction environment behind the golden-file tests: a handful of Raft
// nodes (RawNode over MemoryLogStore), a message network that only moves when
// a script says so, and a trivial state machine (the list of applied values).
//
// Everything is driven synchronously by the script, one command at a time;
// the only awaits are MemoryLogStore's saves, which in 'immediate' sync mode
// resolve at once. So the same script always yields byte-identical output.

import {
  bootstrapEntries,
  decodeConfChange,
  RaftError,
  RaftInvariantError,
  RawNode,
  SeededPrng,
  type Message,
  type NodeId,
  type RaftConfig,
  type Snapshot,
} from '../../../src/raft/core/index.js';
import { MemoryLogStore } from '../../../src/storage/memory-log-store.js';
import {
  fmtConfChange,
  fmtConfState,
  fmtEntries,
  fmtEntry,
  fmtHardState,
  fmtMessage,
  fmtReadState,
  fmtSnapshotMeta,
  statKey,
} from './format.js';

/** The tunables a script may set per node (see add-nodes in README.md). */
export type NodeSettings = Partial<
  Pick<
    RaftConfig,
    | 'electionTicks'
    | 'heartbeatTicks'
    | 'maxMsgBytes'
    | 'maxInflightMsgs'
    | 'maxInflightBytes'
    | 'maxUncommittedBytes'
    | 'maxCommittedBytesPerReady'
    | 'maxSnapshotBytes'
    | 'snapshotChunkBytes'
    | 'maxPendingReads'
    | 'preVote'
    | 'checkQuorum'
  >
>;

/** A failure of the harness or of the scenario's own assumptions: stops the file. */
export class FatalError extends Error {}

interface GoldenNode {
  readonly id: NodeId;
  readonly settings: NodeSettings;
  store: MemoryLogStore;
  /** undefined while crashed. */
  raw: RawNode | undefined;
  /** The state machine: the applied index and the data of every applied normal entry. */
  applied: number;
  values: string[];
}

export type Output = string[];

const enc = new TextEncoder();
const dec = new TextDecoder();

export class GoldenEnv {
  readonly nodes = new Map<NodeId, GoldenNode>();
  /** Messages on the wire, per recipient, oldest first. */
  private readonly wire = new Map<NodeId, Message[]>();
  /** Directed links that drop everything: "from->to". */
  private readonly cuts = new Set<string>();
  /** Messages sent (taken from a Ready), by statKey. */
  private stats = new Map<string, number>();

  // ---- nodes ---------------------------------------------------------------

  node(id: NodeId): GoldenNode {
    const node = this.nodes.get(id);
    if (!node) throw new FatalError(`no node ${id}`);
    return node;
  }

  live(id: NodeId): RawNode {
    const raw = this.node(id).raw;
    if (!raw) throw new FatalError(`node ${id} is crashed`);
    return raw;
  }

  ids(): NodeId[] {
    return [...this.nodes.keys()].sort((a, b) => a - b);
  }

  liveIds(): NodeId[] {
    return this.ids().filter((id) => this.node(id).raw !== undefined);
  }

  /**
   * Adds `count` nodes with the next free ids. Members of `voters` start from
   * the bootstrap log (committed addVoter entries at term 1); any other new
   * node starts empty, as a node that will join as a learner.
   */
  async addNodes(count: number, voters: readonly NodeId[] | undefined, settings: NodeSettings): Promise<Output> {
    const out: Output = [];
    const first = Math.max(0, ...this.ids()) + 1;
    const created: NodeId[] = [];
    for (let id = first; id < first + count; id++) created.push(id);
    const founders = voters ?? (this.nodes.size === 0 ? created : []);
    for (const id of created) {
      const store = new MemoryLogStore({ syncMode: 'immediate' });
      if (founders.includes(id)) {
        await store.save({
          hardState: { term: 1, vote: 0, commit: founders.length },
          entries: bootstrapEntries(founders),
          snapshot: undefined,
        });
      }
      const node: GoldenNode = { id, settings, store, raw: undefined, applied: 0, values: [] };
      node.raw = this.newRawNode(node);
      this.nodes.set(id, node);
      this.wire.set(id, []);
      out.push(`${id}: ${founders.includes(id) ? `founder of ${fmtIdsList(founders)}` : 'empty (joining)'}`);
    }
    // The founders apply their bootstrap configuration (in several Readies
    // if max-committed-bytes-per-ready pages it) before anything else.
    for (const id of created) {
      while (this.live(id).hasReady()) await this.handleReady(id, out);
    }
    return out;
  }

  private newRawNode(node: GoldenNode): RawNode {
    return new RawNode({
      ...node.settings,
      id: node.id,
      storage: node.store,
      prng: new SeededPrng(node.id),
      applied: node.applied,
    });
  }

  crash(id: NodeId): Output {
    const node = this.node(id);
    if (!node.raw) throw new FatalError(`node ${id} is already crashed`);
    node.raw = undefined;
    // Only what the disk holds survives (everything, in 'immediate' sync mode).
    node.store = MemoryLogStore.fromImage(node.store.durableImage(), { syncMode: 'immediate' });
    const lost = this.wire.get(id)?.length ?? 0;
    this.wire.set(id, []);
    return [lost > 0 ? `${id} crashed; ${lost} message(s) on the way to it are lost` : `${id} crashed`];
  }

  restart(id: NodeId): Output {
    const node = this.node(id);
    if (node.raw) throw new FatalError(`node ${id} is running; crash it first`);
    node.raw = this.newRawNode(node);
    const st = node.raw.status();
    return [
      `${id} restarted: ${st.role} term=${st.term} vote=${st.vote} commit=${st.commit} applied=${st.applied} last=${st.lastIndex} ${fmtConfState(st.confState)}`,
    ];
  }

  // ---- the Ready loop -------------------------------------------------------

  /** One Ready of one node: persist, send, apply, advance; printed as it happens. */
  async handleReady(id: NodeId, out: Output): Promise<void> {
    const node = this.node(id);
    const raw = this.live(id);
    const rd = raw.ready();
    out.push(`> ${id} handling Ready`);
    if (rd.softState) out.push(`  soft state: ${rd.softState.role} lead=${rd.softState.leader}`);
    if (rd.hardState) out.push(`  hard state: ${fmtHardState(rd.hardState)}`);
    if (rd.snapshot) out.push(`  snapshot: ${fmtSnapshotMeta(rd.snapshot)}`);
    if (rd.entries.length > 0) out.push(`  entries: ${fmtEntries(rd.entries)}`);
    // 1. Persist hard state, snapshot and entries as one batch.
    if (rd.hardState || rd.snapshot || rd.entries.length > 0) {
      await node.store.save({ hardState: rd.hardState, entries: rd.entries, snapshot: rd.snapshot });
    }
    if (rd.snapshot) this.restoreStateMachine(node, rd.snapshot, out);
    // 2. Send.
    if (rd.messages.length > 0) {
      out.push('  messages:');
      for (const m of rd.messages) out.push(`    ${this.send(m)}`);
    }
    // 3. Apply.
    if (rd.committedEntries.length > 0) {
      out.push(`  committed: ${fmtEntries(rd.committedEntries)}`);
      for (const entry of rd.committedEntries) {
        if (entry.type === 'confChange') {
          const change = decodeConfChange(entry.data);
          const cs = raw.applyConfChange(change);
          out.push(`  applied ${fmtConfChange(change)}: ${fmtConfState(cs)}`);
        } else if (entry.data.byteLength > 0) {
          node.values.push(dec.decode(entry.data));
        }
        node.applied = entry.index;
      }
    }
    for (const rs of rd.readStates) out.push(`  read state: ${fmtReadState(rs)}`);
    // 4. Advance.
    raw.advance();
  }

  private restoreStateMachine(node: GoldenNode, snapshot: Snapshot, out: Output): void {
    const parsed: unknown = JSON.parse(dec.decode(snapshot.data));
    if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === 'string')) {
      throw new FatalError(`snapshot ${snapshot.meta.index} does not hold a state machine image`);
    }
    node.values = parsed as string[];
    node.applied = snapshot.meta.index;
    out.push(`  restored state machine: applied=${node.applied} values=${node.values.length}`);
  }

  private send(m: Message): string {
    this.stats.set(statKey(m), (this.stats.get(statKey(m)) ?? 0) + 1);
    const text = fmtMessage(m);
    const drop = this.dropReason(m);
    if (drop) return `${text}  (dropped: ${drop})`;
    this.wire.get(m.to)!.push(m);
    return text;
  }

  private dropReason(m: Message): string | undefined {
    const to = this.nodes.get(m.to);
    if (!to) return `no node ${m.to}`;
    if (!to.raw) return `${m.to} is crashed`;
    if (this.cuts.has(`${m.from}->${m.to}`)) return 'partition';
    return undefined;
  }

  async processReady(ids: readonly NodeId[]): Promise<Output> {
    const out: Output = [];
    for (const id of ids) {
      if (this.live(id).hasReady()) await this.handleReady(id, out);
    }
    if (out.length === 0) out.push('no Ready');
    return out;
  }

  /** Steps `msgs` into their recipient, in order, or drops them. */
  private deliverTo(to: NodeId, msgs: readonly Message[], out: Output): void {
    out.push(`> ${to} receiving messages`);
    for (const m of msgs) {
      const reason = this.dropReason(m);
      if (reason) {
        out.push(`  ${fmtMessage(m)}  (dropped: ${reason})`);
        continue;
      }
      out.push(`  ${fmtMessage(m)}`);
      const error = stepCatching(() => this.live(to).step(m));
      if (error) out.push(`  error: ${error}`);
    }
  }

  /** Takes the queued messages matching the filter off the wire, grouped by recipient. */
  private takeMessages(filter: MessageFilter): Map<NodeId, Message[]> {
    const taken = new Map<NodeId, Message[]>();
    for (const to of this.ids()) {
      if (filter.to && !filter.to.includes(to)) continue;
      const queue = this.wire.get(to) ?? [];
      const keep: Message[] = [];
      const take: Message[] = [];
      for (const m of queue) {
        const match =
          (!filter.from || filter.from.includes(m.from)) &&
          (!filter.types || filter.types.includes(m.type)) &&
          (filter.context === undefined || dec.decode(m.context) === filter.context) &&
          (filter.limit === undefined || take.length < filter.limit);
        (match ? take : keep).push(m);
      }
      this.wire.set(to, keep);
      if (take.length > 0) taken.set(to, take);
    }
    return taken;
  }

  deliverMsgs(filter: MessageFilter, drop: boolean): Output {
    const out: Output = [];
    for (const [to, msgs] of this.takeMessages(filter)) {
      if (drop) for (const m of msgs) out.push(`dropped: ${fmtMessage(m)}`);
      else this.deliverTo(to, msgs, out);
    }
    if (out.length === 0) out.push('no messages');
    return out;
  }

  /** Ready and deliver, round after round, until nothing moves among `ids`. */
  async stabilize(ids: readonly NodeId[]): Promise<Output> {
    const out: Output = [];
    for (let round = 0; ; round++) {
      if (round > 1000) throw new FatalError('stabilize did not converge in 1000 rounds');
      let moved = false;
      for (const id of ids) {
        const raw = this.node(id).raw;
        if (raw?.hasReady()) {
          await this.handleReady(id, out);
          moved = true;
        }
      }
      const taken = this.takeMessages({ to: ids.filter((id) => this.node(id).raw), from: [...ids] });
      for (const [to, msgs] of taken) {
        this.deliverTo(to, msgs, out);
        moved = true;
      }
      if (!moved) break;
    }
    if (out.length === 0) out.push('nothing to do');
    return out;
  }

  // ---- network ---------------------------------------------------------------

  /** Drops all messages from each node in `from` to each node in `to`. */
  cut(from: readonly NodeId[], to: readonly NodeId[]): void {
    for (const a of from) for (const b of to) if (a !== b) this.cuts.add(`${a}->${b}`);
  }

  heal(): void {
    this.cuts.clear();
  }

  describeCuts(): string {
    return [...this.cuts].sort().join(' ');
  }

  // ---- inputs ------------------------------------------------------------------

  tick(ids: readonly NodeId[], ticksOf: (id: NodeId) => number): Output {
    const out: Output = [];
    const rounds = Math.max(0, ...ids.map(ticksOf));
    for (let k = 1; k <= rounds; k++) {
      for (const id of ids) {
        if (k > ticksOf(id)) continue;
        const raw = this.live(id);
        const before = describeRole(raw);
        const sent = raw.raft.msgs.length;
        const error = stepCatching(() => raw.tick());
        if (error) out.push(`tick ${k}: ${id} error: ${error}`);
        const after = describeRole(raw);
        if (after !== before) out.push(`tick ${k}: ${id} is now ${after}`);
        // A campaign shows as its first request (a repeated pre-vote changes no state).
        const request = raw.raft.msgs.slice(sent).find((m) => m.type === 'preVote' || m.type === 'vote');
        if (request) out.push(`tick ${k}: ${id} sends ${request.type} requests for term ${request.term}`);
      }
    }
    if (out.length === 0) out.push('ok');
    return out;
  }

  /** Runs a local input; a RaftError other than an invariant is part of the expected output. */
  input(fn: () => void): Output {
    const error = stepCatching(fn);
    return [error ? `error: ${error}` : 'ok'];
  }

  /** One proposal batch: several values become consecutive entries of one message. */
  propose(id: NodeId, values: readonly string[]): Output {
    return this.input(() => this.live(id).propose(values.map((v) => enc.encode(v))));
  }

  // ---- inspection ---------------------------------------------------------------

  status(id: NodeId): Output {
    const node = this.node(id);
    if (!node.raw) {
      const img = node.store.durableImage();
      const last = img.base.index + img.entries.length;
      return [`${id}: crashed; disk: ${fmtHardState(img.hardState)} last=${last}`];
    }
    const st = node.raw.status();
    const out = [
      `${id}: ${st.role} term=${st.term} vote=${st.vote} lead=${st.lead} commit=${st.commit} applied=${st.applied} ` +
        `first=${node.raw.raft.log.firstIndex()} last=${st.lastIndex} ${fmtConfState(st.confState)}` +
        (st.leadTransferee ? ` transferee=${st.leadTransferee}` : ''),
    ];
    if (st.role === 'leader') {
      for (const [pid, pr] of [...node.raw.raft.progress].sort((a, b) => a[0] - b[0])) {
        if (pid === id) continue;
        const inflight = pr.state === 'replicate' ? ` inflight=${pr.inflights.count()}` : '';
        const probe = pr.state === 'probe' && pr.probeSent ? ' paused' : '';
        out.push(`  ${pid}: ${pr.describe()}${inflight}${probe}${pr.recentActive ? ' active' : ''}`);
      }
    }
    return out;
  }

  log(id: NodeId): Output {
    const node = this.node(id);
    const img = node.store.durableImage();
    const snap = img.snapshot.meta;
    const out = [`${id}: first=${img.base.index + 1} last=${img.base.index + img.entries.length} snapshot=${snap.index}@${snap.term} commit=${img.hardState.commit}`];
    if (node.raw && node.raw.raft.log.unstable().length > 0) out.push('  (has unpersisted entries: process its Ready first)');
    for (const e of img.entries) out.push(`  ${fmtEntry(e)}`);
    return out;
  }

  stateMachine(id: NodeId): Output {
    const node = this.node(id);
    return [`${id}: applied=${node.applied} values=[${node.values.join(' ')}]`];
  }

  /** Snapshot of the node's applied state, stored, and the log compacted up to `index`. */
  async compact(id: NodeId, index: number): Promise<Output> {
    const node = this.node(id);
    const raw = this.live(id);
    const term = raw.raft.log.term(node.applied);
    if (term === undefined) throw new FatalError(`node ${id}: applied index ${node.applied} has no term`);
    const snapshot: Snapshot = {
      meta: { index: node.applied, term, confState: raw.raft.confState() },
      data: enc.encode(JSON.stringify(node.values)),
    };
    await node.store.saveSnapshot(snapshot, index);
    const first = node.store.firstIndex();
    const last = node.store.lastIndex();
    return [`${id}: snapshot ${fmtSnapshotMeta(snapshot)}; log now ${last < first ? `empty, next index ${first}` : `${first}..${last}`}`];
  }

  statsLines(): Output {
    const keys = [...this.stats.keys()].sort();
    if (keys.length === 0) return ['no messages sent'];
    return [keys.map((k) => `${k}=${this.stats.get(k)}`).join(' ')];
  }

  stat(key: string): number {
    return this.stats.get(key) ?? 0;
  }

  resetStats(): void {
    this.stats = new Map();
  }

  /** Pending messages on the wire, per recipient. */
  wireLines(): Output {
    const out: Output = [];
    for (const id of this.ids()) for (const m of this.wire.get(id) ?? []) out.push(fmtMessage(m));
    return out.length > 0 ? out : ['no messages'];
  }

}

export interface MessageFilter {
  readonly to?: readonly NodeId[];
  readonly from?: readonly NodeId[];
  readonly types?: readonly string[];
  /** Only messages whose context is this text. */
  readonly context?: string;
  /** At most this many per recipient. */
  readonly limit?: number;
}

function describeRole(raw: RawNode): string {
  const st = raw.status();
  return `${st.role} term=${st.term} lead=${st.lead}`;
}

function fmtIdsList(ids: readonly NodeId[]): string {
  return `(${[...ids].sort((a, b) => a - b).join(',')})`;
}

/** Runs fn; returns a RaftError's description, rethrows invariant violations and anything else. */
function stepCatching(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    if (error instanceof RaftInvariantError || !(error instanceof RaftError)) throw error;
    return `${error.code}: ${error.message}`;
  }
}

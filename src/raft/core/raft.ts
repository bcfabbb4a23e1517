import { resolveRaftConfig, type RaftConfig, type RaftOptions } from './config.js';
import { decodeConfChange, validateConfChange } from './conf-change.js';
import {
  CompactedError,
  ConfChangeRefusedError,
  invariant,
  NotLeaderError,
  ProposalDroppedError,
  UncommittedLogFullError,
} from './errors.js';
import { Progress } from './progress.js';
import { committedIndex, voteResult } from './quorum.js';
import { entriesBytes, RaftLog } from './raft-log.js';
import { ReadOnlyQueue } from './read-only.js';
import {
  EMPTY_BYTES,
  message,
  NONE,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type ReadState,
  type Snapshot,
  type SnapshotChunk,
  type StateRole,
} from './types.js';

const TRANSFER_CONTEXT = new TextEncoder().encode('transfer');

function isTransferContext(context: Uint8Array): boolean {
  return context.length === TRANSFER_CONTEXT.length && context.every((b, i) => b === TRANSFER_CONTEXT[i]);
}

interface IncomingSnapshot {
  readonly chunk: SnapshotChunk;
  readonly parts: Uint8Array[];
  receivedBytes: number;
}

/**
 * The Raft state machine for one node. Pure: every input is a call, every
 * output lands in `msgs`, `readStates` or the log for RawNode to collect.
 * Errors that a local caller must see (a proposal that cannot be accepted)
 * are thrown from step(); messages from the network never throw for being
 * stale or unexpected, they are dropped.
 */
export class Raft {
  readonly id: NodeId;
  readonly config: RaftConfig;
  readonly log: RaftLog;
  term = 0;
  vote: NodeId = NONE;
  lead: NodeId = NONE;
  role: StateRole = 'follower';
  msgs: Message[] = [];
  readStates: ReadState[] = [];

  private voters = new Set<NodeId>();
  private learners = new Set<NodeId>();
  readonly progress = new Map<NodeId, Progress>();
  private votes = new Map<NodeId, boolean>();
  private readonly readOnly = new ReadOnlyQueue();
  /** ReadIndex requests that arrived before this leader committed an entry of its term. */
  private pendingReadIndex: Message[] = [];
  leadTransferee: NodeId = NONE;
  /** Index of the latest configuration change (or the term's no-op); no new change until it applies. */
  pendingConfIndex = 0;
  uncommittedBytes = 0;
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private incomingSnapshot: IncomingSnapshot | undefined;

  constructor(options: RaftOptions) {
    this.config = resolveRaftConfig(options);
    this.id = this.config.id;
    this.log = new RaftLog(this.config.storage);
    const { hardState, confState } = this.config.storage.initialState();
    this.applyConfState(confState);
    if (hardState.term > 0 || hardState.commit > 0) this.loadHardState(hardState);
    if (this.config.applied > 0) {
      this.log.appliedTo(this.config.applied);
      this.replayAppliedConfChanges();
    }
    this.becomeFollower(this.term, NONE);
  }

  private loadHardState(hardState: HardState): void {
    invariant(
      hardState.commit >= this.log.committed && hardState.commit <= this.log.lastIndex(),
      () => `hard state commit ${hardState.commit} outside [${this.log.committed}, ${this.log.lastIndex()}]`,
    );
    this.term = hardState.term;
    this.vote = hardState.vote;
    this.log.commitTo(hardState.commit);
  }

  /**
   * The configuration is the snapshot's plus every change applied since; the
   * state machine already holds those entries, so the core replays only the
   * configuration part of them.
   */
  private replayAppliedConfChanges(): void {
    const lo = this.log.firstIndex();
    if (this.log.applied < lo) return;
    for (const entry of this.log.slice(lo, this.log.applied + 1, Number.MAX_SAFE_INTEGER)) {
      if (entry.type === 'confChange') this.applyConfChange(decodeConfChange(entry.data));
    }
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  confState(): ConfState {
    return { voters: [...this.voters].sort((a, b) => a - b), learners: [...this.learners].sort((a, b) => a - b) };
  }

  isVoter(id: NodeId): boolean {
    return this.voters.has(id);
  }

  private promotable(): boolean {
    return this.voters.has(this.id) && !this.log.pendingSnapshot();
  }

  // ---- role transitions -------------------------------------------------

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.config.electionTicks + this.config.prng.nextInt(this.config.electionTicks);
    this.votes.clear();
    this.leadTransferee = NONE;
    this.readOnly.clear();
    this.pendingReadIndex = [];
    const next = this.log.lastIndex() + 1;
    for (const [id, pr] of this.progress) {
      const fresh = this.newProgress(next, pr.isLearner);
      if (id === this.id) fresh.match = this.log.lastIndex();
      this.progress.set(id, fresh);
    }
  }

  private newProgress(next: number, isLearner: boolean): Progress {
    return new Progress(next, this.config.maxInflightMsgs, this.config.maxInflightBytes, isLearner);
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.role = 'follower';
    this.lead = lead;
  }

  private becomePreCandidate(): void {
    invariant(this.role !== 'leader', () => 'leader cannot become pre-candidate');
    // A pre-candidate neither increments its term nor changes its vote.
    this.votes.clear();
    this.role = 'preCandidate';
    this.lead = NONE;
  }

  private becomeCandidate(): void {
    invariant(this.role !== 'leader', () => 'leader cannot become candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  private becomeLeader(): void {
    invariant(this.role === 'candidate', () => `only a candidate becomes leader, not a ${this.role}`);
    this.reset(this.term);
    this.role = 'leader';
    this.lead = this.id;
    this.progress.get(this.id)?.becomeReplicate();
    // No configuration change until the term's no-op has applied.
    this.pendingConfIndex = this.log.lastIndex() + 1;
    this.uncommittedBytes = 0;
    const appended = this.appendEntries([{ term: this.term, index: 0, type: 'normal', data: EMPTY_BYTES }]);
    invariant(appended, () => 'the empty no-op can always be appended');
  }

  // ---- ticks -----------------------------------------------------------

  tick(): void {
    if (this.role === 'leader') this.tickLeader();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.step(message({ type: 'hup', from: this.id }));
    }
  }

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.config.electionTicks) {
      this.electionElapsed = 0;
      if (this.config.checkQuorum) this.step(message({ type: 'checkQuorum', from: this.id }));
      // A transfer that did not finish within an election timeout is abandoned.
      if (this.role === 'leader') this.leadTransferee = NONE;
    }
    if (this.role !== 'leader') return;
    if (this.heartbeatElapsed >= this.config.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.step(message({ type: 'beat', from: this.id }));
    }
  }

  // ---- step ------------------------------------------------------------

  step(m: Message): void {
    if (m.term === 0) {
      // local message
    } else if (m.term > this.term) {
      if (!this.stepHigherTerm(m)) return;
    } else if (m.term < this.term) {
      this.stepLowerTerm(m);
      return;
    }

    switch (m.type) {
      case 'hup':
        this.hup(false);
        return;
      case 'vote':
      case 'preVote':
        this.stepVoteRequest(m);
        return;
      default:
        if (this.role === 'leader') this.stepLeader(m);
        else if (this.role === 'follower') this.stepFollower(m);
        else this.stepCandidate(m);
    }
  }

  /** Returns false when the message must be ignored. */
  private stepHigherTerm(m: Message): boolean {
    if (m.type === 'vote' || m.type === 'preVote') {
      const force = isTransferContext(m.context);
      const inLease = this.config.checkQuorum && this.lead !== NONE && this.electionElapsed < this.config.electionTicks;
      // CheckQuorum's lease: while we hear from a leader, a partitioned node
      // rejoining with a higher term must not depose it.
      if (!force && inLease) return false;
    }
    if (m.type === 'preVote') return true;
    if (m.type === 'preVoteResp' && !m.reject) return true;
    const fromLeader = m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap';
    this.becomeFollower(m.term, fromLeader ? m.from : NONE);
    return true;
  }

  private stepLowerTerm(m: Message): void {
    if ((this.config.checkQuorum || this.config.preVote) && (m.type === 'heartbeat' || m.type === 'app')) {
      // A stale leader cut off from the others: tell it our term so it steps
      // down instead of holding its followers' leases forever.
      this.send(message({ type: 'appResp', to: m.from }));
    } else if (m.type === 'preVote') {
      this.send(message({ type: 'preVoteResp', to: m.from, term: this.term, reject: true }));
    }
  }

  private stepVoteRequest(m: Message): void {
    const canVote =
      this.vote === m.from ||
      (this.vote === NONE && this.lead === NONE) ||
      (m.type === 'preVote' && m.term > this.term);
    const respType = m.type === 'vote' ? 'voteResp' : 'preVoteResp';
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      // A pre-vote answer carries the candidate's future term so it is not
      // dropped as stale; a real vote is in our (now equal) term.
      this.send(message({ type: respType, to: m.from, term: m.term }));
      if (m.type === 'vote') {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send(message({ type: respType, to: m.from, term: this.term, reject: true }));
    }
  }

  // ---- elections -------------------------------------------------------

  private hup(transfer: boolean): void {
    if (this.role === 'leader' || !this.promotable()) return;
    if (this.hasUnappliedConfChange()) return;
    if (this.config.preVote && !transfer) this.campaignPreVote();
    else this.campaign(transfer);
  }

  private hasUnappliedConfChange(): boolean {
    if (this.log.committed <= this.log.applied) return false;
    const lo = Math.max(this.log.applied + 1, this.log.firstIndex());
    try {
      return this.log.slice(lo, this.log.committed + 1, Number.MAX_SAFE_INTEGER).some((e) => e.type === 'confChange');
    } catch (error) {
      if (error instanceof CompactedError) return false;
      throw error;
    }
  }

  private campaignPreVote(): void {
    this.becomePreCandidate();
    if (this.poll(this.id, true) === 'won') {
      this.campaign(false);
      return;
    }
    this.requestVotes('preVote', this.term + 1, EMPTY_BYTES);
  }

  private campaign(transfer: boolean): void {
    this.becomeCandidate();
    if (this.poll(this.id, true) === 'won') {
      this.becomeLeader();
      return;
    }
    this.requestVotes('vote', this.term, transfer ? TRANSFER_CONTEXT : EMPTY_BYTES);
  }

  private requestVotes(type: 'vote' | 'preVote', term: number, context: Uint8Array): void {
    for (const id of [...this.voters].sort((a, b) => a - b)) {
      if (id === this.id) continue;
      this.send(message({ type, to: id, term, index: this.log.lastIndex(), logTerm: this.log.lastTerm(), context }));
    }
  }

  private poll(id: NodeId, granted: boolean): 'pending' | 'won' | 'lost' {
    if (!this.votes.has(id)) this.votes.set(id, granted);
    return voteResult([...this.voters], this.votes);
  }

  private stepCandidate(m: Message): void {
    const myVoteResp = this.role === 'preCandidate' ? 'preVoteResp' : 'voteResp';
    switch (m.type) {
      case 'prop':
        throw new NotLeaderError(NONE, `election in progress (term ${this.term})`);
      case 'readIndex':
        throw new NotLeaderError(NONE, `election in progress (term ${this.term})`);
      case 'app':
      case 'heartbeat':
      case 'snap':
        this.becomeFollower(m.term, m.from);
        this.stepFollower(m);
        return;
      case 'voteResp':
      case 'preVoteResp': {
        if (m.type !== myVoteResp) return;
        const result = this.poll(m.from, !m.reject);
        if (result === 'won') {
          if (this.role === 'preCandidate') this.campaign(false);
          else {
            this.becomeLeader();
            this.broadcastAppend();
          }
        } else if (result === 'lost') {
          this.becomeFollower(this.term, NONE);
        }
        return;
      }
      default:
        return;
    }
  }

  // ---- follower --------------------------------------------------------

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'prop':
        if (this.lead === NONE) throw new NotLeaderError(NONE, `no leader in term ${this.term}`);
        this.send({ ...m, to: this.lead });
        return;
      case 'readIndex':
        // Keep the original `from`: the answer goes to the node that asked,
        // even when the request was forwarded more than once.
        if (this.lead === NONE) throw new NotLeaderError(NONE, `no leader in term ${this.term}`);
        this.send({ ...m, to: this.lead });
        return;
      case 'transferLeader':
        if (this.lead !== NONE) this.send({ ...m, to: this.lead });
        return;
      case 'app':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppend(m);
        return;
      case 'heartbeat':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
        this.send(message({ type: 'heartbeatResp', to: m.from, context: m.context }));
        return;
      case 'snap':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshotChunk(m);
        return;
      case 'timeoutNow':
        this.hup(true);
        return;
      case 'readIndexResp':
        this.readStates.push({ index: m.index, context: m.context });
        return;
      default:
        return;
    }
  }

  private handleAppend(m: Message): void {
    if (m.index < this.log.committed) {
      this.send(message({ type: 'appResp', to: m.from, index: this.log.committed }));
      return;
    }
    const lastNew = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      this.send(message({ type: 'appResp', to: m.from, index: lastNew }));
      return;
    }
    // Fast backtracking: name the highest index that could still match, and
    // its term, so the leader skips a whole conflicting term per round trip.
    const hint = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm);
    this.send(
      message({ type: 'appResp', to: m.from, index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term }),
    );
  }

  private handleSnapshotChunk(m: Message): void {
    const chunk = m.snapshot;
    if (!chunk) return;
    if (chunk.meta.index <= this.log.committed) {
      this.incomingSnapshot = undefined;
      this.send(message({ type: 'appResp', to: m.from, index: this.log.committed }));
      return;
    }
    const wanted = this.acceptChunk(chunk);
    if (wanted !== undefined) {
      this.send(message({ type: 'snapResp', to: m.from, index: chunk.meta.index, rejectHint: wanted }));
      return;
    }
    const incoming = this.incomingSnapshot;
    this.incomingSnapshot = undefined;
    if (!incoming) return;
    const snapshot: Snapshot = { meta: chunk.meta, data: concatBytes(incoming.parts, incoming.receivedBytes) };
    const index = this.restore(snapshot) ? this.log.lastIndex() : this.log.committed;
    this.send(message({ type: 'appResp', to: m.from, index }));
  }

  /**
   * Buffers a chunk. Returns the next offset wanted, or undefined once the
   * snapshot is complete. A gap (lost chunk, or our restart mid-transfer)
   * asks for the offset we actually have, 0 after a restart.
   */
  private acceptChunk(chunk: SnapshotChunk): number | undefined {
    const current = this.incomingSnapshot;
    const sameSnapshot =
      current !== undefined && current.chunk.meta.index === chunk.meta.index && current.chunk.meta.term === chunk.meta.term;
    if (chunk.offset === 0) {
      if (chunk.totalBytes > this.config.maxSnapshotBytes) return 0;
      this.incomingSnapshot = { chunk, parts: [], receivedBytes: 0 };
    } else if (!sameSnapshot || current.receivedBytes !== chunk.offset) {
      return sameSnapshot ? current.receivedBytes : 0;
    }
    const incoming = this.incomingSnapshot!;
    if (incoming.receivedBytes + chunk.data.byteLength > incoming.chunk.totalBytes) {
      this.incomingSnapshot = undefined;
      return 0;
    }
    incoming.parts.push(chunk.data);
    incoming.receivedBytes += chunk.data.byteLength;
    return incoming.receivedBytes < incoming.chunk.totalBytes ? incoming.receivedBytes : undefined;
  }

  /** Installs a snapshot from the leader; false if it brings nothing new. */
  private restore(snapshot: Snapshot): boolean {
    const { index, term, confState } = snapshot.meta;
    if (index <= this.log.committed) return false;
    // A snapshot older than our own addition may not list us; we still take
    // it and learn our membership from the entries that follow it.
    if (this.log.matchTerm(index, term)) {
      // Our log already has this entry: just move the commit forward.
      this.log.commitTo(index);
      return false;
    }
    this.log.restore(snapshot);
    this.applyConfState(confState);
    return true;
  }

  // ---- leader ----------------------------------------------------------

  private stepLeader(m: Message): void {
    switch (m.type) {
      case 'beat':
        this.broadcastHeartbeat(this.readOnly.lastPendingContext() ?? EMPTY_BYTES);
        return;
      case 'checkQuorum':
        this.checkQuorumActive();
        return;
      case 'prop':
        this.stepLeaderProposal(m);
        return;
      case 'readIndex':
        this.stepLeaderReadIndex(m);
        return;
      case 'transferLeader':
        this.stepTransferLeader(m);
        return;
      default:
        this.stepLeaderResponse(m);
    }
  }

  private checkQuorumActive(): void {
    const active = [...this.voters].filter((id) => id === this.id || this.progress.get(id)?.recentActive === true);
    const votes = new Map<NodeId, boolean>(active.map((id) => [id, true]));
    for (const [id, pr] of this.progress) if (id !== this.id) pr.recentActive = false;
    if (voteResult([...this.voters], votes) !== 'won') this.becomeFollower(this.term, NONE);
  }

  private stepLeaderProposal(m: Message): void {
    invariant(m.entries.length > 0, () => 'proposal with no entries');
    if (!this.progress.has(this.id)) throw new ProposalDroppedError('this node was removed from the group');
    if (this.leadTransferee !== NONE) {
      throw new ProposalDroppedError(`leadership is being transferred to ${this.leadTransferee}`);
    }
    for (const entry of m.entries) {
      if (entry.type === 'confChange') this.checkConfChangeAllowed(decodeConfChange(entry.data));
    }
    if (!this.appendEntries(m.entries)) {
      throw new UncommittedLogFullError(this.uncommittedBytes, this.config.maxUncommittedBytes);
    }
    const last = this.log.lastIndex();
    if (m.entries.some((e) => e.type === 'confChange')) this.pendingConfIndex = last;
    this.broadcastAppend();
  }

  private checkConfChangeAllowed(change: ConfChange): void {
    if (this.pendingConfIndex > this.log.applied) {
      const what = this.log.applied < this.noopIndexOfTerm() ? "this term's no-op has not applied" : 'a change is pending';
      throw new ConfChangeRefusedError(`${what} (pending index ${this.pendingConfIndex}, applied ${this.log.applied})`, true);
    }
    const problem = validateConfChange(change, this.confState());
    if (problem) throw new ConfChangeRefusedError(problem, false);
  }

  private noopIndexOfTerm(): number {
    for (let i = this.log.lastIndex(); i >= this.log.firstIndex(); i--) {
      if (this.log.term(i) !== this.term) return i + 1;
    }
    return this.log.firstIndex();
  }

  private stepLeaderReadIndex(m: Message): void {
    if (this.voters.size === 1) {
      this.answerRead(m, this.log.committed);
      return;
    }
    if (!this.committedEntryInCurrentTerm()) {
      // Until our no-op commits we do not know the true commit index.
      if (this.pendingReadIndex.length >= this.config.maxPendingReads) {
        throw new ProposalDroppedError(`too many reads waiting for the term's first commit (${this.config.maxPendingReads})`);
      }
      this.pendingReadIndex.push(m);
      return;
    }
    this.startRead(m);
  }

  private startRead(m: Message): void {
    if (this.readOnly.size() >= this.config.maxPendingReads) {
      throw new ProposalDroppedError(`too many reads in flight (${this.config.maxPendingReads})`);
    }
    if (!this.readOnly.add(this.log.committed, m)) return;
    this.readOnly.recvAck(this.id, m.context);
    this.broadcastHeartbeat(m.context);
  }

  private answerRead(request: Message, index: number): void {
    if (request.from === NONE || request.from === this.id) {
      this.readStates.push({ index, context: request.context });
    } else {
      this.send(message({ type: 'readIndexResp', to: request.from, index, context: request.context }));
    }
  }

  private committedEntryInCurrentTerm(): boolean {
    return this.log.termOrZero(this.log.committed) === this.term;
  }

  private releasePendingReads(): void {
    if (this.pendingReadIndex.length === 0 || !this.committedEntryInCurrentTerm()) return;
    const reads = this.pendingReadIndex;
    this.pendingReadIndex = [];
    for (const read of reads) this.startRead(read);
  }

  private stepTransferLeader(m: Message): void {
    const target = m.from;
    const pr = this.progress.get(target);
    if (!pr || pr.isLearner || target === this.id || target === this.leadTransferee) return;
    this.electionElapsed = 0;
    this.leadTransferee = target;
    if (pr.match === this.log.lastIndex()) this.send(message({ type: 'timeoutNow', to: target }));
    else this.sendAppend(target);
  }

  private stepLeaderResponse(m: Message): void {
    const pr = this.progress.get(m.from);
    if (!pr) return;
    switch (m.type) {
      case 'appResp':
        pr.recentActive = true;
        if (m.reject) this.handleAppendRejected(m, pr);
        else this.handleAppendAccepted(m, pr);
        return;
      case 'heartbeatResp':
        this.handleHeartbeatResp(m, pr);
        return;
      case 'snapResp':
        pr.recentActive = true;
        this.handleSnapshotResp(m, pr);
        return;
      case 'snapStatus':
        if (pr.state === 'snapshot') {
          pr.becomeProbe();
          pr.probeSent = true; // wait for a heartbeat before probing again
        }
        return;
      case 'unreachable':
        if (pr.state === 'replicate') pr.becomeProbe();
        return;
      default:
        return;
    }
  }

  private handleAppendRejected(m: Message, pr: Progress): void {
    let nextProbe = m.rejectHint;
    if (m.logTerm > 0) nextProbe = this.log.findConflictByTerm(m.rejectHint, m.logTerm).index;
    if (pr.maybeDecrTo(m.index, nextProbe)) {
      if (pr.state === 'replicate') pr.becomeProbe();
      this.sendAppend(m.from);
    }
  }

  private handleAppendAccepted(m: Message, pr: Progress): void {
    const wasPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index)) return;
    if (pr.state === 'probe') pr.becomeReplicate();
    else if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) {
      pr.becomeProbe();
      pr.becomeReplicate();
    } else if (pr.state === 'replicate') pr.inflights.freeLE(m.index);

    if (this.maybeCommit()) {
      this.releasePendingReads();
      this.broadcastAppend();
    } else if (wasPaused) {
      this.sendAppend(m.from);
    }
    while (this.maybeSendAppend(m.from, false)) {
      // pipeline: keep sending while the inflight window has room
    }
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) {
      this.send(message({ type: 'timeoutNow', to: m.from }));
    }
  }

  private handleHeartbeatResp(m: Message, pr: Progress): void {
    pr.recentActive = true;
    pr.probeSent = false;
    if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
    if (pr.state === 'snapshot') this.sendSnapshotChunk(m.from, pr);
    else if (pr.match < this.log.lastIndex()) this.sendAppend(m.from);

    if (m.context.length === 0) return;
    const acks = this.readOnly.recvAck(m.from, m.context);
    if (!acks) return;
    const votes = new Map<NodeId, boolean>([...acks].map((id) => [id, true]));
    if (voteResult([...this.voters], votes) !== 'won') return;
    for (const read of this.readOnly.advance(m.context)) this.answerRead(read.request, read.index);
  }

  private handleSnapshotResp(m: Message, pr: Progress): void {
    const transfer = pr.transfer;
    if (pr.state !== 'snapshot' || !transfer || transfer.snapshot.meta.index !== m.index) return;
    const wanted = Math.min(m.rejectHint, transfer.snapshot.data.byteLength);
    // Only a change of the wanted offset sends: duplicated or stale answers
    // must not multiply the chunks in flight. Lost chunks are resent on heartbeats.
    if (wanted === transfer.offset) return;
    transfer.offset = wanted;
    this.sendSnapshotChunk(m.from, pr);
  }

  private maybeCommit(): boolean {
    const index = committedIndex([...this.voters], (id) => this.progress.get(id)?.match ?? 0);
    return this.log.maybeCommit(index, this.term);
  }

  // ---- sending ---------------------------------------------------------

  private send(m: Message): void {
    // Forwarded requests travel as local messages (term 0); vote traffic sets
    // its own term; everything else carries ours.
    const forwarded = m.type === 'prop' || m.type === 'readIndex' || m.type === 'transferLeader';
    const explicit = m.type === 'vote' || m.type === 'preVote' || m.type === 'voteResp' || m.type === 'preVoteResp';
    const term = forwarded ? 0 : explicit ? m.term : this.term;
    this.msgs.push({ ...m, from: m.from === NONE ? this.id : m.from, term });
  }

  private broadcastAppend(): void {
    for (const id of this.sortedPeers()) this.sendAppend(id);
  }

  private broadcastHeartbeat(context: Uint8Array): void {
    for (const id of this.sortedPeers()) {
      const pr = this.progress.get(id)!;
      // Never tell a follower to commit past what it is known to hold.
      const commit = Math.min(pr.match, this.log.committed);
      this.send(message({ type: 'heartbeat', to: id, commit, context }));
    }
  }

  private sortedPeers(): NodeId[] {
    return [...this.progress.keys()].filter((id) => id !== this.id).sort((a, b) => a - b);
  }

  private sendAppend(to: NodeId): void {
    this.maybeSendAppend(to, true);
  }

  /** Sends what `to` needs next; with sendIfEmpty false, only if there are new entries. */
  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.progress.get(to);
    if (!pr || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    let entries: Entry[];
    try {
      entries = prevTerm === undefined ? [] : this.log.entriesFrom(pr.next, this.config.maxMsgBytes);
    } catch (error) {
      if (!(error instanceof CompactedError)) throw error;
      return this.startSnapshot(to, pr);
    }
    if (prevTerm === undefined) return this.startSnapshot(to, pr);
    if (entries.length === 0 && !sendIfEmpty) return false;
    const last = entries[entries.length - 1];
    this.send(
      message({ type: 'app', to, index: prevIndex, logTerm: prevTerm, entries, commit: this.log.committed }),
    );
    pr.sentEntries(entries.length, last?.index ?? prevIndex, entriesBytes(entries));
    return true;
  }

  private startSnapshot(to: NodeId, pr: Progress): boolean {
    if (!pr.recentActive) return false;
    const snapshot = this.log.snapshot();
    if (!snapshot) return false;
    pr.becomeSnapshot(snapshot);
    this.sendSnapshotChunk(to, pr);
    return true;
  }

  private sendSnapshotChunk(to: NodeId, pr: Progress): void {
    const transfer = pr.transfer;
    if (!transfer) return;
    const { snapshot, offset } = transfer;
    const end = Math.min(offset + this.config.snapshotChunkBytes, snapshot.data.byteLength);
    const chunk: SnapshotChunk = {
      meta: snapshot.meta,
      offset,
      data: snapshot.data.subarray(offset, end),
      totalBytes: snapshot.data.byteLength,
    };
    this.send(message({ type: 'snap', to, snapshot: chunk }));
  }

  // ---- proposals and configuration ------------------------------------

  /** Appends as leader; false when the uncommitted bound would be exceeded. */
  private appendEntries(entries: readonly Entry[]): boolean {
    const bytes = entriesBytes(entries);
    if (this.uncommittedBytes > 0 && bytes > 0 && this.uncommittedBytes + bytes > this.config.maxUncommittedBytes) {
      return false;
    }
    this.uncommittedBytes += bytes;
    const lastIndex = this.log.lastIndex();
    const stamped = entries.map((e, i) => ({ ...e, term: this.term, index: lastIndex + 1 + i }));
    const newLast = this.log.append(stamped);
    this.progress.get(this.id)?.maybeUpdate(newLast);
    this.maybeCommit();
    return true;
  }

  /** Committed entries were handed to the application: they no longer count as uncommitted. */
  reduceUncommittedBytes(entries: readonly Entry[]): void {
    if (this.role !== 'leader') return;
    this.uncommittedBytes = Math.max(0, this.uncommittedBytes - entriesBytes(entries));
  }

  /** Applies a committed configuration change; called by the driver when it applies the entry. */
  applyConfChange(change: ConfChange): ConfState {
    const next = { voters: new Set(this.voters), learners: new Set(this.learners) };
    switch (change.type) {
      case 'addVoter':
        next.learners.delete(change.nodeId);
        next.voters.add(change.nodeId);
        break;
      case 'addLearner':
        if (!next.voters.has(change.nodeId)) next.learners.add(change.nodeId);
        break;
      case 'promote':
        if (next.learners.delete(change.nodeId)) next.voters.add(change.nodeId);
        break;
      case 'remove':
        next.voters.delete(change.nodeId);
        next.learners.delete(change.nodeId);
        break;
    }
    this.applyConfState({ voters: [...next.voters], learners: [...next.learners] });
    this.afterConfChange();
    return this.confState();
  }

  private applyConfState(confState: ConfState): void {
    this.voters = new Set(confState.voters);
    this.learners = new Set(confState.learners);
    const next = this.log.lastIndex() + 1;
    for (const id of this.progress.keys()) {
      if (!this.voters.has(id) && !this.learners.has(id)) this.progress.delete(id);
    }
    for (const id of [...this.voters, ...this.learners]) {
      const existing = this.progress.get(id);
      if (existing) existing.isLearner = this.learners.has(id);
      else {
        const pr = this.newProgress(next, this.learners.has(id));
        // A new member may be slow to answer; count it active until it proves otherwise.
        pr.recentActive = true;
        if (id === this.id) pr.match = this.log.lastIndex();
        this.progress.set(id, pr);
      }
    }
  }

  private afterConfChange(): void {
    if (this.role !== 'leader') return;
    if (this.leadTransferee !== NONE && !this.voters.has(this.leadTransferee)) this.leadTransferee = NONE;
    if (!this.voters.has(this.id)) {
      this.stepDownAfterRemoval();
      return;
    }
    if (this.maybeCommit()) this.broadcastAppend();
    else for (const id of this.sortedPeers()) this.maybeSendAppend(id, false);
  }

  /**
   * A leader removed from the group: spread the commit index, hand the
   * election to the most caught-up voter, and step down.
   */
  private stepDownAfterRemoval(): void {
    this.broadcastAppend();
    let best: NodeId = NONE;
    let bestMatch = -1;
    for (const id of [...this.voters].sort((a, b) => a - b)) {
      const match = this.progress.get(id)?.match ?? 0;
      if (match > bestMatch) {
        best = id;
        bestMatch = match;
      }
    }
    if (best !== NONE && bestMatch === this.log.lastIndex()) this.send(message({ type: 'timeoutNow', to: best }));
    this.becomeFollower(this.term, NONE);
  }
}

function concatBytes(parts: readonly Uint8Array[], totalBytes: number): Uint8Array {
  const out = new Uint8Array(totalBytes);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

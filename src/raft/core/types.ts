// The vocabulary of the Raft core. Everything here is plain data so that the
// core stays a pure function of its inputs: the driver persists it, the
// transport encodes it, the simulator copies it.

export type NodeId = number;

/** 0 means "nobody": no vote cast, no leader known. */
export const NONE: NodeId = 0;

export type EntryType = 'normal' | 'confChange';

export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  /** An empty normal entry is the leader's term-start no-op. */
  readonly data: Uint8Array;
}

export interface HardState {
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
}

export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

/** 'addVoter' only bootstraps a new group; a running group adds a learner, then promotes it. */
export type ConfChangeType = 'addVoter' | 'addLearner' | 'promote' | 'remove';

export interface ConfChange {
  readonly type: ConfChangeType;
  readonly nodeId: NodeId;
}

export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
}

export interface Snapshot {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
}

export type MessageType =
  // local messages: never sent over the network
  | 'hup'
  | 'beat'
  | 'prop'
  | 'checkQuorum'
  | 'unreachable'
  | 'snapStatus'
  // network messages
  | 'app'
  | 'appResp'
  | 'vote'
  | 'voteResp'
  | 'preVote'
  | 'preVoteResp'
  | 'snap'
  | 'snapResp'
  | 'heartbeat'
  | 'heartbeatResp'
  | 'readIndex'
  | 'readIndexResp'
  | 'transferLeader'
  | 'timeoutNow';

/** One chunk of an InstallSnapshot transfer. */
export interface SnapshotChunk {
  readonly meta: SnapshotMeta;
  /** Byte offset of `data` within the whole snapshot. */
  readonly offset: number;
  readonly data: Uint8Array;
  readonly totalBytes: number;
}

export interface Message {
  readonly type: MessageType;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  /** app: term of the entry at `index`. vote/preVote: candidate's last log term. */
  readonly logTerm: number;
  /** app: index preceding `entries`. appResp: last index matched or the rejected index. */
  readonly index: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  readonly reject: boolean;
  /** appResp on reject: the follower's hint for where to retry. snapResp: next offset wanted. */
  readonly rejectHint: number;
  /** heartbeat/readIndex: the read context. vote: 'transfer' for a forced campaign. */
  readonly context: Uint8Array;
  readonly snapshot: SnapshotChunk | undefined;
}

/** Fills in the fields a message does not use, so every message has one shape. */
export function message(fields: Partial<Message> & Pick<Message, 'type'>): Message {
  return {
    from: NONE,
    to: NONE,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    context: EMPTY_BYTES,
    snapshot: undefined,
    ...fields,
  };
}

export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

export type StateRole = 'follower' | 'preCandidate' | 'candidate' | 'leader';

export interface SoftState {
  readonly leader: NodeId;
  readonly role: StateRole;
}

/** The answer to a ReadIndex request: reads may be served once `index` is applied. */
export interface ReadState {
  readonly index: number;
  readonly context: Uint8Array;
}

/**
 * Work for the driver, in order: persist `hardState`, `entries` and
 * `snapshot` (one synced batch), then send `messages`, then apply
 * `committedEntries`, then call advance().
 */
export interface Ready {
  readonly softState: SoftState | undefined;
  readonly hardState: HardState | undefined;
  readonly entries: readonly Entry[];
  readonly snapshot: Snapshot | undefined;
  readonly committedEntries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly readStates: readonly ReadState[];
}

/** Types only the node itself may step; 'prop' is absent because followers forward proposals. */
export function isLocalMessage(type: MessageType): boolean {
  return (
    type === 'hup' ||
    type === 'beat' ||
    type === 'checkQuorum' ||
    type === 'unreachable' ||
    type === 'snapStatus'
  );
}

export function isResponseMessage(type: MessageType): boolean {
  return (
    type === 'appResp' ||
    type === 'voteResp' ||
    type === 'preVoteResp' ||
    type === 'heartbeatResp' ||
    type === 'snapResp' ||
    type === 'readIndexResp' ||
    type === 'unreachable'
  );
}

import { RaftInvariantError } from './errors.js';
import type { Prng } from './prng.js';
import type { RaftStorage } from './storage.js';
import type { NodeId } from './types.js';

export interface RaftConfig {
  readonly id: NodeId;
  readonly storage: RaftStorage;
  readonly prng: Prng;
  /** Followers campaign after a random timeout in [electionTicks, 2 * electionTicks). */
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  /** The state machine's applied index at start, so nothing is applied twice. */
  readonly applied: number;
  /** Bytes of entry data per append message (at least one entry is always sent). */
  readonly maxMsgBytes: number;
  /** Append messages in flight per follower in replicate state. */
  readonly maxInflightMsgs: number;
  /** Bytes in flight per follower; 0 for no byte bound. */
  readonly maxInflightBytes: number;
  /** Bytes of uncommitted entry data a leader accepts before refusing proposals. */
  readonly maxUncommittedBytes: number;
  /** Bytes of committed entries handed out in one Ready. */
  readonly maxCommittedBytesPerReady: number;
  /** Largest snapshot a follower accepts, so a peer cannot make it buffer without bound. */
  readonly maxSnapshotBytes: number;
  readonly snapshotChunkBytes: number;
  /** ReadIndex requests a leader queues while waiting for quorum; beyond it they are dropped. */
  readonly maxPendingReads: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
}

export const DEFAULT_RAFT_CONFIG = {
  electionTicks: 10,
  heartbeatTicks: 1,
  applied: 0,
  maxMsgBytes: 1024 * 1024,
  maxInflightMsgs: 256,
  maxInflightBytes: 0,
  maxUncommittedBytes: 64 * 1024 * 1024,
  maxCommittedBytesPerReady: 8 * 1024 * 1024,
  maxSnapshotBytes: 1024 * 1024 * 1024,
  snapshotChunkBytes: 1024 * 1024,
  maxPendingReads: 65536,
  preVote: true,
  checkQuorum: true,
} as const;

export type RaftOptions = Pick<RaftConfig, 'id' | 'storage' | 'prng'> & Partial<RaftConfig>;

export function resolveRaftConfig(options: RaftOptions): RaftConfig {
  const config: RaftConfig = { ...DEFAULT_RAFT_CONFIG, ...options };
  const positive: (keyof RaftConfig)[] = [
    'id',
    'electionTicks',
    'heartbeatTicks',
    'maxMsgBytes',
    'maxInflightMsgs',
    'maxUncommittedBytes',
    'maxCommittedBytesPerReady',
    'snapshotChunkBytes',
    'maxPendingReads',
  ];
  for (const key of positive) {
    const value = config[key];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
      throw new RaftInvariantError(`raft config ${key} must be a positive integer, got ${String(value)}`);
    }
  }
  if (config.electionTicks <= config.heartbeatTicks) {
    throw new RaftInvariantError(
      `raft config electionTicks (${config.electionTicks}) must exceed heartbeatTicks (${config.heartbeatTicks})`,
    );
  }
  return config;
}

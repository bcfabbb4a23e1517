// What the cluster router needs from the rest of the process. Each piece is
// an interface so tests can run the router over MemoryClusterLog, a real
// PostgreSQL or none, and a fixed reachability.
import type pino from 'pino';
import type { ClusterAccess } from '../cluster/index.js';
import type { ReplicationJob } from '../db/index.js';
import type { NodeDirectory } from '../config/index.js';
import type { TransactionManager } from '../transactions/index.js';

/** The PostgreSQL side of creation and deletion (DESIGN §6). */
export interface RepositoryCatalogue {
  /** Allocates an id and records the path; rejects RepositoryExistsError, or a DatabaseError when PostgreSQL cannot answer. */
  create(virtualStorage: string, relativePath: string): Promise<{ repositoryId: number; replicaPath: string }>;
  /** Forgets the path; resolves even when it was not there. */
  delete(virtualStorage: string, relativePath: string): Promise<void>;
}

/** Where replication jobs go after a write (DESIGN §6: Raft first, then this; a failure is repaired by the reconciler). */
export interface JobSink {
  enqueue(job: ReplicationJob): Promise<unknown>;
}

/** This router's own verdict about a node: a call never goes to a node the router cannot reach itself. */
export type Reachability = (virtualStorage: string, storage: string) => boolean;

/** A node's answer to a forwarded call, for error-rate health tracking (DESIGN §8). */
export type NodeResultObserver = (node: { virtualStorage: string; storage: string }, kind: 'read' | 'write', code: number) => void;

export interface ClusterRouterOptions {
  readonly access: ClusterAccess;
  readonly nodes: NodeDirectory;
  readonly reachable: Reachability;
  /** Absent: creation fails with UNAVAILABLE (no catalogue), as when PostgreSQL is down. */
  readonly catalogue?: RepositoryCatalogue;
  /** Absent: no jobs are enqueued after writes; the reconciler schedules them. */
  readonly jobs?: JobSink;
  /** Default true (DESIGN §7): route on state at least as fresh as a ReadIndex taken when the call arrives. */
  readonly freshReads?: boolean;
  /**
   * Accessors that cannot confirm fresh state within afterMs (no quorum)
   * are routed on this router's own state and marked stale to the client
   * (STALE_READ_METADATA_KEY). Absent: they fail with UNAVAILABLE.
   */
  readonly staleReads?: { readonly afterMs: number; readonly onStaleRead?: (why: string) => void };
  /** Record a write intent in Raft before forwarding a mutator (DESIGN §10). Default true. */
  readonly writeIntents?: boolean;
  /** Reference transactions for the transactional mutators (DESIGN §10); absent: writes go to the primary alone (async replication). */
  readonly transactions?: RouterTransactions;
  readonly onNodeResult?: NodeResultObserver;
  /** After an election this router proposed moved a repository's primary. */
  readonly onPrimaryChanged?: (change: { virtualStorage: string; relativePath: string; previous: string | null; current: string }) => void;
  /** Test failpoints (see src/praefect/failpoints.ts): called at named places, e.g. 'before-bump'. */
  readonly failpoint?: (name: string) => void;
  /** Picks among equal candidates for reads and creation (tests pass a fixed one). Default Math.random. */
  readonly random?: () => number;
  readonly logger?: pino.Logger;
}

/** Why a replica of a transactional write gets a replication job instead of a generation bump (upstream's labels). */
export type TxReplicationReason = 'outdated' | 'no-votes' | 'node-error-status' | 'node-not-committed' | 'primary-failed' | 'primary-not-committed';

export interface RouterTransactions {
  readonly manager: TransactionManager;
  /** How storage nodes reach this router to vote: its cleartext listener (or unix socket) and the token votes are signed with. */
  readonly voteTarget: { readonly listenAddr?: string; readonly socketPath?: string; readonly token: string };
  /** How long secondaries may run after the primary ended before they are cut off. */
  readonly settleMs: number;
  /** Request bytes a secondary may have unsent before it is cut off. */
  readonly maxBufferedBytes: number;
  /** Counts each replica sent a replication job after a transactional write. */
  readonly onReplication?: (reason: TxReplicationReason) => void;
}

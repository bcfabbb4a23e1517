import type { ClusterView } from './cluster-view.js';
import type { ResultByType } from './command-results.js';
import type { ClusterCommand, CommandBody, CommandType } from './commands.js';

/** A command body of one type, as a proposer writes it (the header is added by the access). */
export type BodyOf<T extends CommandType> = CommandBody<Extract<ClusterCommand, { type: T }>>;

/**
 * How a router reaches the replicated cluster state: a local view, a way to
 * make it fresh, and proposals. The router, the replication worker and the
 * reconciler depend on this alone, so tests run them over MemoryClusterAccess
 * and the process runs them over Raft.
 */
export interface ClusterAccess {
  /** This router's name; the header of every proposal names it. */
  readonly routerName: string;
  /** The locally applied state. Reads are stale unless preceded by fresh(). */
  readonly view: ClusterView;
  /** Resolves once the view reflects everything committed before the call (a ReadIndex round, shared). */
  fresh(): Promise<void>;
  /**
   * Proposes one command, stamped with this router's clock; resolves with its
   * apply result. Rejects when it cannot commit (no quorum, timeout): the
   * caller must treat the outcome as unknown.
   */
  propose<B extends CommandBody>(body: B): Promise<ResultByType[B['type']]>;
  /** Whether this router is the Raft leader now (the reconciler and intent sweeper run there). */
  isLeader(): boolean;
}

/**
 * Errors of the replicated cluster state, with stable codes: callers branch on
 * `code`, never on message text. A refused compare-and-set is not an error; it
 * is a `conflict` result (see command-results.ts).
 */
export abstract class ClusterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
  abstract readonly code: string;
}

/** A command payload that is not a valid command; `field` names what is wrong (e.g. `create-repository.assigned[1]`). */
export class CommandDecodeError extends ClusterError {
  readonly code = 'CLUSTER_BAD_COMMAND';
  constructor(
    readonly field: string,
    readonly detail: string,
  ) {
    super(`bad cluster command: ${field}: ${detail}`);
  }
}

/** Snapshot bytes that are not a cluster snapshot this version can read. */
export class SnapshotFormatError extends ClusterError {
  readonly code = 'CLUSTER_BAD_SNAPSHOT';
  constructor(detail: string) {
    super(`bad cluster snapshot: ${detail}`);
  }
}

/** The state stored in LevelDB cannot be read back: the folder is damaged or from another program. */
export class StoredStateError extends ClusterError {
  readonly code = 'CLUSTER_BAD_STORED_STATE';
  constructor(detail: string) {
    super(`bad stored cluster state: ${detail}`);
  }
}

/** A view asked for something its construction did not give it (e.g. a digest of a bare state). */
export class ClusterViewError extends ClusterError {
  readonly code = 'CLUSTER_VIEW_UNSUPPORTED';
}

/**
 * A broken invariant of the state (a bug, never bad input): the state machine
 * must stop rather than apply on, so this is thrown and the Raft driver halts.
 */
export class ClusterInvariantError extends ClusterError {
  readonly code = 'CLUSTER_INVARIANT';
  constructor(detail: string) {
    super(`cluster invariant violated: ${detail}`);
  }
}

export function clusterInvariant(condition: boolean, detail: () => string): asserts condition {
  if (!condition) throw new ClusterInvariantError(detail());
}

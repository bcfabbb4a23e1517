/**
 * The replication layer's errors, with stable codes. `permanent` errors make a
 * job dead at once (trying again cannot help); the others fail the attempt and
 * the queue retries it after its backoff.
 */
export abstract class ReplicationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
  abstract readonly code: string;
  /** True when another attempt cannot succeed. */
  readonly permanent: boolean = false;
}

/** The configuration names no node for a (virtual storage, storage) pair. */
export class UnknownNodeError extends ReplicationError {
  readonly code = 'REPLICATION_UNKNOWN_NODE';
  override readonly permanent = true;
  constructor(virtualStorage: string, storage: string) {
    super(`no node "${storage}" is configured in virtual storage "${virtualStorage}"`);
  }
}

/** A job kind this worker cannot perform. */
export class UnsupportedChangeError extends ReplicationError {
  readonly code = 'REPLICATION_UNSUPPORTED_CHANGE';
  override readonly permanent = true;
  constructor(changeType: string) {
    super(`replication change type "${changeType}" is not supported`);
  }
}

/** No healthy replica on the latest generation can serve as the source. */
export class NoSourceError extends ReplicationError {
  readonly code = 'REPLICATION_NO_SOURCE';
  constructor(repositoryId: number, target: string) {
    super(`repository ${repositoryId} has no healthy replica on the latest generation to replicate "${target}" from`);
  }
}

/** Raft refused the new generation of the target (another write or job got there first). */
export class GenerationConflictError extends ReplicationError {
  readonly code = 'REPLICATION_GENERATION_CONFLICT';
  constructor(repositoryId: number, target: string, reason: string, currentGeneration: number, sourceGeneration: number) {
    super(
      `repository ${repositoryId}: setting "${target}" to generation ${sourceGeneration} was refused (${reason}; it is at ${currentGeneration})`,
    );
  }
}

/** A call to a storage node failed; `grpcCode` is its gRPC status. */
export class NodeCallError extends ReplicationError {
  readonly code = 'REPLICATION_NODE_CALL_FAILED';
  constructor(
    readonly method: string,
    readonly address: string,
    readonly grpcCode: number | undefined,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${method} on ${address} failed: ${detail}`, options);
  }
}

/** An operation outlived its time bound. */
export class ReplicationTimeoutError extends ReplicationError {
  readonly code = 'REPLICATION_TIMEOUT';
  constructor(what: string, timeoutMs: number) {
    super(`${what} did not finish within ${timeoutMs} ms`);
  }
}

/** Options that cannot work (a zero batch, a negative interval). */
export class ReplicationOptionsError extends ReplicationError {
  readonly code = 'REPLICATION_BAD_OPTIONS';
  override readonly permanent = true;
}

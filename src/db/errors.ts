/**
 * The database layer's errors, with stable codes. Callers branch on `code`,
 * never on message text. The router maps them to gRPC status in one place:
 *
 *   DB_UNAVAILABLE, DB_QUERY_TIMEOUT  -> UNAVAILABLE
 *   DB_POOL_EXHAUSTED                 -> RESOURCE_EXHAUSTED
 *   DB_REPOSITORY_EXISTS              -> ALREADY_EXISTS
 *   everything else                   -> INTERNAL
 */
export abstract class DatabaseError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
  abstract readonly code: string;
  /** Whether the same request may succeed if tried again later. */
  abstract readonly retryable: boolean;
}

/** The server cannot be reached, refused us, or dropped the connection. */
export class DatabaseUnavailableError extends DatabaseError {
  readonly code = 'DB_UNAVAILABLE';
  readonly retryable = true;
  constructor(
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`PostgreSQL is unavailable: ${detail}`, options);
  }
}

/**
 * A query ran past its bound: the server cancelled it (statement_timeout), or
 * the server did not answer at all (a stalled or paused server).
 */
export class QueryTimeoutError extends DatabaseError {
  readonly code = 'DB_QUERY_TIMEOUT';
  readonly retryable = true;
  constructor(
    readonly timeoutMs: number,
    readonly side: 'server' | 'client',
    options?: { cause?: unknown },
  ) {
    super(
      side === 'server'
        ? `PostgreSQL cancelled the query after its statement timeout of ${timeoutMs} ms`
        : `PostgreSQL did not answer the query within ${timeoutMs} ms`,
      options,
    );
  }
}

/** Every connection of the bounded pool stayed busy for the whole wait bound. */
export class PoolExhaustedError extends DatabaseError {
  readonly code = 'DB_POOL_EXHAUSTED';
  readonly retryable = true;
  constructor(
    readonly maxConnections: number,
    readonly waitedMs: number,
  ) {
    super(`all ${maxConnections} PostgreSQL connections stayed busy for ${waitedMs} ms`);
  }
}

/** The server rejected a statement: a bug or a schema mismatch, not an outage. */
export class QueryFailedError extends DatabaseError {
  readonly code = 'DB_QUERY_FAILED';
  readonly retryable = false;
  constructor(
    message: string,
    /** The SQLSTATE the server sent, when it sent one. */
    readonly sqlState: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A repository with this virtual storage and relative path is already in the catalogue. */
export class RepositoryExistsError extends DatabaseError {
  readonly code = 'DB_REPOSITORY_EXISTS';
  readonly retryable = false;
  constructor(
    readonly virtualStorage: string,
    readonly relativePath: string,
    options?: { cause?: unknown },
  ) {
    super(`repository ${virtualStorage}/${relativePath} already exists`, options);
  }
}

/** The schema cannot be brought to, or is not at, the version this build expects. */
export class MigrationError extends DatabaseError {
  readonly code = 'DB_MIGRATION_FAILED';
  readonly retryable = false;
}

/** The embedded server could not be initialised, started or stopped. */
export class EmbeddedDatabaseError extends DatabaseError {
  readonly code = 'DB_EMBEDDED_SERVER_FAILED';
  readonly retryable = false;
}

// A bounded pg.Pool: at most `maxConnections` sessions, a bound on the wait for
// one, a statement timeout on every query and a client-side bound for a server
// that does not answer at all. Broken sessions are dropped and replaced on the
// next checkout, so the pool recovers by itself once the server is back.
import pg from 'pg';
import type { QueryResult, QueryResultRow } from 'pg';
import type { ConnectionOptions } from 'node:tls';
import { ConnectionPermits } from './connection-permits.js';
import { breaksConnection, toDatabaseError, type TimeoutBounds } from './error-mapping.js';
import type { DatabaseError } from './errors.js';

export interface ConnectionSettings {
  host: string;
  port: number;
  database: string;
  user: string;
  password?: string;
  ssl?: boolean | ConnectionOptions;
}

export interface PoolOptions extends ConnectionSettings {
  /** Upper bound on open sessions. Default 10. */
  maxConnections?: number;
  /** How long a caller waits for a free session before PoolExhaustedError. Default 1000 ms. */
  acquireTimeoutMs?: number;
  /** Bound on opening a session (TCP, TLS, authentication). Default 2000 ms. */
  connectTimeoutMs?: number;
  /** Sent as statement_timeout: the server cancels longer statements. Default 5000 ms. */
  statementTimeoutMs?: number;
  /**
   * Extra time the client waits past the statement timeout before it gives up
   * on a server that does not answer (paused, partitioned). Default 1000 ms.
   */
  clientTimeoutGraceMs?: number;
  /** Idle sessions are closed after this long. Default 10000 ms. */
  idleTimeoutMs?: number;
  applicationName?: string;
  /** Errors on idle sessions: they are already discarded; this is for logs. */
  onIdleError?: (err: DatabaseError) => void;
}

export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
}

export interface PoolStats {
  maxConnections: number;
  /** Sessions handed out to callers right now. */
  inUse: number;
  /** Callers waiting for a session. */
  waiting: number;
  /** Open sessions, busy or idle. */
  open: number;
  idle: number;
}

/** One checked-out session and what went wrong with it, if anything. */
interface Lease {
  client: pg.PoolClient;
  broken: DatabaseError | undefined;
  onError: (err: Error) => void;
}

export class DatabasePool implements Queryable {
  private readonly pool: pg.Pool;
  private readonly permits: ConnectionPermits;
  private readonly bounds: TimeoutBounds;
  private closing: Promise<void> | undefined;

  constructor(options: PoolOptions) {
    const maxConnections = options.maxConnections ?? 10;
    const statementTimeoutMs = options.statementTimeoutMs ?? 5000;
    const clientTimeoutMs = statementTimeoutMs + (options.clientTimeoutGraceMs ?? 1000);
    this.bounds = { statementTimeoutMs, clientTimeoutMs };
    this.permits = new ConnectionPermits(maxConnections, options.acquireTimeoutMs ?? 1000);
    this.pool = new pg.Pool({
      host: options.host,
      port: options.port,
      database: options.database,
      user: options.user,
      password: options.password,
      ssl: options.ssl,
      max: maxConnections,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 2000,
      idleTimeoutMillis: options.idleTimeoutMs ?? 10_000,
      statement_timeout: statementTimeoutMs,
      query_timeout: clientTimeoutMs,
      // A transaction left open by a stalled caller must not hold row locks forever.
      idle_in_transaction_session_timeout: clientTimeoutMs * 2,
      application_name: options.applicationName ?? 'praefect',
      keepAlive: true,
      allowExitOnIdle: true,
    });
    // pg.Pool emits errors of idle sessions and has already discarded them; an
    // unhandled 'error' event would crash the process.
    this.pool.on('error', (err) => options.onIdleError?.(toDatabaseError(err, this.bounds)));
  }

  get maxConnections(): number {
    return this.permits.limit;
  }

  async query<R extends QueryResultRow = QueryResultRow>(
    text: string,
    params?: readonly unknown[],
  ): Promise<QueryResult<R>> {
    const lease = await this.checkout();
    try {
      return await this.run<R>(lease, text, params);
    } finally {
      this.checkin(lease);
    }
  }

  /** Runs `fn` in one transaction: committed if it resolves, rolled back if it throws. */
  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const lease = await this.checkout();
    try {
      await this.run(lease, 'BEGIN');
      const tx: Queryable = { query: (text, params) => this.run(lease, text, params) };
      const result = await fn(tx);
      await this.run(lease, 'COMMIT');
      return result;
    } catch (err) {
      await this.rollbackQuietly(lease);
      throw err;
    } finally {
      this.checkin(lease);
    }
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  stats(): PoolStats {
    return {
      maxConnections: this.permits.limit,
      inUse: this.permits.active,
      waiting: this.permits.waiting,
      open: this.pool.totalCount,
      idle: this.pool.idleCount,
    };
  }

  /** Refuses new callers, then waits for sessions in use to come back and closes all. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.permits.close();
    await this.pool.end();
  }

  private async checkout(): Promise<Lease> {
    await this.permits.acquire();
    try {
      const client = await this.pool.connect();
      const lease: Lease = { client, broken: undefined, onError: () => undefined };
      // pg.Pool only listens for errors on idle sessions; one that breaks while
      // checked out must be noticed here, or the 'error' event crashes us.
      lease.onError = (err) => {
        lease.broken = toDatabaseError(err, this.bounds);
      };
      client.on('error', lease.onError);
      return lease;
    } catch (err) {
      this.permits.release();
      throw toDatabaseError(err, this.bounds);
    }
  }

  private checkin(lease: Lease): void {
    lease.client.removeListener('error', lease.onError);
    // A truthy argument makes pg.Pool destroy the session instead of keeping it.
    lease.client.release(lease.broken);
    this.permits.release();
  }

  private async run<R extends QueryResultRow>(
    lease: Lease,
    text: string,
    params?: readonly unknown[],
  ): Promise<QueryResult<R>> {
    if (lease.broken !== undefined) throw lease.broken;
    try {
      return await lease.client.query<R>(text, params as unknown[] | undefined);
    } catch (raw) {
      const err = toDatabaseError(raw, this.bounds);
      if (breaksConnection(err)) lease.broken = err;
      throw err;
    }
  }

  private async rollbackQuietly(lease: Lease): Promise<void> {
    if (lease.broken !== undefined) return;
    try {
      await this.run(lease, 'ROLLBACK');
    } catch {
      // run() marked the session broken; it is destroyed on checkin.
    }
  }
}

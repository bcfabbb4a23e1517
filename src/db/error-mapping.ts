// Turns what `pg` throws into the small error tree in errors.ts, and tells the
// pool whether the connection that produced the error can still be reused.
import {
  DatabaseError,
  DatabaseUnavailableError,
  QueryFailedError,
  QueryTimeoutError,
} from './errors.js';

/** Socket-level failures from node:net, on the error or inside an AggregateError. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** `pg` reports a lost or unusable connection with plain messages and no code. */
const CONNECTION_MESSAGES = [
  'Connection terminated',
  'connection error and is not queryable',
  'Client was closed and is not queryable',
  'Connection terminated due to connection timeout',
  'timeout exceeded when trying to connect',
];

/** pg's client-side read timeout (`query_timeout`). */
const CLIENT_TIMEOUT_MESSAGE = 'Query read timeout';

/**
 * SQLSTATEs that mean "the server cannot serve us now" rather than "this
 * statement is wrong": connection exceptions (08), shutdown and startup (57P0x),
 * insufficient resources (53), system errors (58), authentication (28) and a
 * missing database (3D000), which an operator fixes without a code change.
 */
function isUnavailableState(state: string): boolean {
  return (
    state.startsWith('08') ||
    state.startsWith('53') ||
    state.startsWith('58') ||
    state.startsWith('28') ||
    state.startsWith('57P') ||
    state === '3D000' ||
    state === '25P03'
  );
}

const STATEMENT_TIMEOUT_STATE = '57014';

export interface TimeoutBounds {
  statementTimeoutMs: number;
  clientTimeoutMs: number;
}

function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isSocketError(err: unknown): boolean {
  const code = codeOf(err);
  if (code !== undefined && SOCKET_CODES.has(code)) return true;
  if (err instanceof AggregateError) return err.errors.some(isSocketError);
  const message = messageOf(err);
  return CONNECTION_MESSAGES.some((m) => message.includes(m));
}

/** A SQLSTATE is five characters; node:net codes start with E and are longer. */
function sqlStateOf(err: unknown): string | undefined {
  const code = codeOf(err);
  return code !== undefined && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

function isFatal(err: unknown): boolean {
  const severity = (err as { severity?: unknown } | null)?.severity;
  return severity === 'FATAL' || severity === 'PANIC';
}

export function toDatabaseError(err: unknown, bounds: TimeoutBounds): DatabaseError {
  if (err instanceof DatabaseError) return err;
  const message = messageOf(err);
  if (message.includes(CLIENT_TIMEOUT_MESSAGE)) {
    return new QueryTimeoutError(bounds.clientTimeoutMs, 'client', { cause: err });
  }
  const state = sqlStateOf(err);
  if (state === STATEMENT_TIMEOUT_STATE) {
    return new QueryTimeoutError(bounds.statementTimeoutMs, 'server', { cause: err });
  }
  if (isSocketError(err) || (state !== undefined && isUnavailableState(state)) || isFatal(err)) {
    return new DatabaseUnavailableError(message || (codeOf(err) ?? 'connection failed'), { cause: err });
  }
  return new QueryFailedError(message, state, { cause: err });
}

/**
 * Whether the connection that raised `err` must be thrown away. A statement the
 * server rejected leaves the session usable; anything at the socket level, a
 * FATAL, or a client-side timeout (the server may still answer later, out of
 * turn) does not.
 */
export function breaksConnection(err: unknown): boolean {
  if (err instanceof DatabaseError) {
    if (err instanceof QueryTimeoutError) return err.side === 'client';
    return err instanceof DatabaseUnavailableError;
  }
  const state = sqlStateOf(err);
  if (state === STATEMENT_TIMEOUT_STATE) return false;
  return state === undefined || isUnavailableState(state) || isFatal(err);
}

// pg returns bigint columns as strings, because not every int8 fits a JS
// number. Ids here are allocated from 1 upwards and stay far below 2^53.
import { QueryFailedError } from './errors.js';

export function toId(value: string | number): number {
  const id = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(id)) throw new QueryFailedError(`id ${String(value)} is not a safe integer`, undefined);
  return id;
}

/** The SQLSTATE and constraint of a rejected statement, if the server named them. */
export function violation(err: unknown): { sqlState?: string; constraint?: string } {
  if (!(err instanceof QueryFailedError)) return {};
  const cause = err.cause as { constraint?: unknown } | undefined;
  return {
    sqlState: err.sqlState,
    constraint: typeof cause?.constraint === 'string' ? cause.constraint : undefined,
  };
}

// [database]: upstream's connection keys (libpq names) plus the pool's bounds.
// Only the sslmodes node-postgres can honour are accepted.
import { z } from 'zod';
import { BOUNDS, DEFAULTS } from './defaults.js';
import { count, duration, secret } from './fields.js';

const d = DEFAULTS.database;
const timeout = { minMs: BOUNDS.database.timeoutMs.min, maxMs: BOUNDS.database.timeoutMs.max };
const text = z.string().min(1, 'must not be empty').max(BOUNDS.pathLength.max);

export const SSL_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;

export const databaseSchema = z.strictObject({
  host: text.default(d.host),
  port: count(1, 65_535).default(d.port),
  user: text.default(d.user),
  password: secret.default(d.password),
  dbname: text.default(d.dbname),
  sslmode: z.enum(SSL_MODES).default(d.sslmode),
  sslcert: text.optional(),
  sslkey: text.optional(),
  sslrootcert: text.optional(),
  max_connections: count(BOUNDS.database.maxConnections.min, BOUNDS.database.maxConnections.max).default(d.maxConnections),
  acquire_timeout: duration(timeout).default(d.acquireTimeoutMs),
  connect_timeout: duration(timeout).default(d.connectTimeoutMs),
  statement_timeout: duration(timeout).default(d.statementTimeoutMs),
  idle_timeout: duration(timeout).default(d.idleTimeoutMs),
});

import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { DatabaseConfig } from '../config/index.js';
import { DatabasePool, type PoolOptions } from '../db/index.js';

export function poolOptions(config: DatabaseConfig, applicationName: string): PoolOptions {
  return {
    host: config.host,
    port: config.port,
    database: config.dbname,
    user: config.user,
    ...(config.password === '' ? {} : { password: config.password }),
    ssl: sslOptions(config),
    maxConnections: config.maxConnections,
    acquireTimeoutMs: config.acquireTimeoutMs,
    connectTimeoutMs: config.connectTimeoutMs,
    statementTimeoutMs: config.statementTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
    applicationName,
  };
}

export function openPool(config: DatabaseConfig, applicationName = 'praefect'): DatabasePool {
  return new DatabasePool(poolOptions(config, applicationName));
}

/** libpq's sslmode as node-postgres understands it: require encrypts only; verify-ca checks the chain; verify-full the host name too. */
function sslOptions(config: DatabaseConfig): false | ConnectionOptions {
  if (config.sslmode === 'disable') return false;
  if (config.sslmode === 'require') return { rejectUnauthorized: false };
  return {
    rejectUnauthorized: true,
    ...(config.sslrootcert === undefined ? {} : { ca: readFileSync(config.sslrootcert) }),
    ...(config.sslcert === undefined ? {} : { cert: readFileSync(config.sslcert) }),
    ...(config.sslkey === undefined ? {} : { key: readFileSync(config.sslkey) }),
    ...(config.sslmode === 'verify-ca' ? { checkServerIdentity: () => undefined } : {}),
  };
}

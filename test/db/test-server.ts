// One real PostgreSQL per test file, in a temporary folder that is removed at
// teardown. Subtests get a database of their own (CREATE DATABASE takes a few
// milliseconds), so they cannot see each other's rows.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Test } from 'tap';
import {
  DatabasePool,
  EmbeddedDatabase,
  migrate,
  type EmbeddedDatabaseOptions,
  type PoolOptions,
} from '../../src/db/index.js';

/** Starts a server and registers its stop (and the folder's removal) with `t`. */
export async function startTestServer(
  t: Test,
  options: Partial<EmbeddedDatabaseOptions> = {},
): Promise<EmbeddedDatabase> {
  const parent = await mkdtemp(join(tmpdir(), 'praefect-db-test-'));
  // mkdtemp makes the folder 0700; the server's own account must pass through it.
  await chmod(parent, 0o755);
  const removeFolder = (): Promise<void> => rm(parent, { recursive: true, force: true });
  let db: EmbeddedDatabase;
  try {
    db = await EmbeddedDatabase.start({ dataDir: join(parent, 'data'), ...options });
  } catch (err) {
    await removeFolder();
    throw err;
  }
  // One teardown, so the folder goes only after the server has stopped.
  t.teardown(async () => {
    await db.stop();
    await removeFolder();
  });
  return db;
}

let counter = 0;

/** A new, empty database on `server`, migrated unless told otherwise, and a pool to it. */
export async function freshDatabase(
  t: Test,
  server: EmbeddedDatabase,
  options: Partial<PoolOptions> & { migrated?: boolean } = {},
): Promise<DatabasePool> {
  counter += 1;
  const name = `t${process.pid}_${counter}`;
  const admin = new pg.Client({ ...server.connection(), database: 'postgres' });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  const pool = new DatabasePool({ ...server.connection(), database: name, ...options });
  t.teardown(() => pool.close());
  if (options.migrated ?? true) await migrate(pool);
  return pool;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Milliseconds `fn` took to settle, and how it settled. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const started = performance.now();
  try {
    const value = await fn();
    return { ms: performance.now() - started, value };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

// Versioned schema migrations: `praefect sql-migrate` runs migrate(),
// `praefect sql-migrate-status` prints migrationStatus(). Each migration runs in
// its own transaction together with its schema_migrations row, so a failed one
// leaves nothing behind. A transaction-scoped advisory lock serialises routers
// that migrate at the same time; the second one finds the work done.
// Never edit a released migration: append a new one.
import { DatabaseError, MigrationError } from './errors.js';
import type { DatabasePool, Queryable } from './pool.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'create_repositories',
    sql: `
      CREATE TABLE repositories (
        repository_id   bigserial PRIMARY KEY,
        virtual_storage text NOT NULL,
        relative_path   text NOT NULL,
        replica_path    text NOT NULL,
        created_at      timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT repositories_virtual_storage_relative_path_key UNIQUE (virtual_storage, relative_path),
        CONSTRAINT repositories_virtual_storage_replica_path_key UNIQUE (virtual_storage, replica_path)
      );
    `,
  },
  {
    version: 2,
    name: 'create_replication_queue',
    sql: `
      CREATE TYPE replication_job_state AS ENUM ('ready', 'in_progress', 'completed', 'failed', 'dead');

      -- One row per (virtual storage, target storage, repository): held while a
      -- job for that target replica is in progress, so two workers never work
      -- on the same replica at once.
      CREATE TABLE replication_queue_lock (
        lock_key text PRIMARY KEY,
        acquired boolean NOT NULL DEFAULT false
      );

      -- Few replicas are busy at once: "is this one busy?" must not scan them all.
      CREATE INDEX replication_queue_lock_acquired ON replication_queue_lock (lock_key) WHERE acquired;

      CREATE TABLE replication_queue (
        id              bigserial PRIMARY KEY,
        state           replication_job_state NOT NULL DEFAULT 'ready',
        change_type     text NOT NULL,
        repository_id   bigint NOT NULL,
        virtual_storage text NOT NULL,
        relative_path   text NOT NULL,
        replica_path    text NOT NULL,
        source_storage  text,
        target_storage  text NOT NULL,
        params          jsonb NOT NULL DEFAULT '{}'::jsonb,
        lock_key        text NOT NULL,
        attempts_left   integer NOT NULL CHECK (attempts_left >= 0),
        attempts_made   integer NOT NULL DEFAULT 0,
        claim_token     uuid,
        last_error      text,
        created_at      timestamptz NOT NULL DEFAULT now(),
        -- The latest enqueue folded into this job: a copy claimed after it covers it.
        enqueued_at     timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now(),
        retry_at        timestamptz NOT NULL DEFAULT now(),
        claimed_at      timestamptz,
        heartbeat_at    timestamptz
      );

      -- Enqueue is idempotent: an equal job still waiting is not added twice.
      CREATE UNIQUE INDEX replication_queue_ready_dedup
        ON replication_queue (lock_key, change_type, (coalesce(source_storage, '')), params)
        WHERE state = 'ready';

      -- Dequeue walks one target at a time, oldest first, over claimable jobs only,
      -- so a backlog for an unhealthy target costs the healthy ones nothing.
      CREATE INDEX replication_queue_claimable
        ON replication_queue (virtual_storage, target_storage, id)
        WHERE state IN ('ready', 'failed');

      CREATE INDEX replication_queue_in_progress
        ON replication_queue (heartbeat_at)
        WHERE state = 'in_progress';
    `,
  },
];

/** "praefect-migrate" folded into a bigint: any constant works, it only has to be ours. */
const MIGRATION_LOCK_KEY = 0x70726165666d6967n;

export type MigrationState = 'applied' | 'pending' | 'unknown';

export interface MigrationStatusRow {
  version: number;
  name: string;
  state: MigrationState;
  appliedAt: Date | undefined;
}

interface AppliedRow {
  version: number;
  name: string;
  applied_at: Date;
}

async function ensureTable(db: Queryable): Promise<void> {
  await db.query(`
    CREATE TABLE IF NOT EXISTS schema_migrations (
      version    integer PRIMARY KEY,
      name       text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
}

async function isApplied(db: Queryable, version: number): Promise<boolean> {
  const found = await db.query('SELECT 1 FROM schema_migrations WHERE version = $1', [version]);
  return found.rowCount === 1;
}

/** Applies one migration unless another router already did; returns whether it ran. */
async function applyOne(pool: DatabasePool, migration: Migration): Promise<boolean> {
  try {
    return await pool.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
      await ensureTable(tx);
      if (await isApplied(tx, migration.version)) return false;
      await tx.query(migration.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      return true;
    });
  } catch (err) {
    // An outage is reported as an outage, not as a broken migration.
    if (err instanceof DatabaseError && err.retryable) throw err;
    throw new MigrationError(`migration ${migration.version} (${migration.name}) failed: ${String(err)}`, { cause: err });
  }
}

/** Brings the schema up to date. Returns the migrations this call applied, oldest first. */
export async function migrate(pool: DatabasePool, migrations: readonly Migration[] = MIGRATIONS): Promise<Migration[]> {
  const applied: Migration[] = [];
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    if (await applyOne(pool, migration)) applied.push(migration);
  }
  return applied;
}

/**
 * Every known migration with its state, plus "unknown" rows: versions applied
 * by a newer build than this one.
 */
export async function migrationStatus(
  db: Queryable,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<MigrationStatusRow[]> {
  const exists = await db.query<{ present: boolean }>(
    "SELECT to_regclass('schema_migrations') IS NOT NULL AS present",
  );
  const rows = exists.rows[0]?.present
    ? (await db.query<AppliedRow>('SELECT version, name, applied_at FROM schema_migrations')).rows
    : [];
  const byVersion = new Map(rows.map((row) => [row.version, row]));
  const status: MigrationStatusRow[] = migrations.map((m) => {
    const row = byVersion.get(m.version);
    return { version: m.version, name: m.name, state: row ? 'applied' : 'pending', appliedAt: row?.applied_at };
  });
  const known = new Set(migrations.map((m) => m.version));
  for (const row of rows) {
    if (!known.has(row.version)) {
      status.push({ version: row.version, name: row.name, state: 'unknown', appliedAt: row.applied_at });
    }
  }
  return status.sort((a, b) => a.version - b.version);
}

/** For router startup: refuse to serve on a schema that sql-migrate has not brought up to date. */
export async function assertMigrated(db: Queryable, migrations: readonly Migration[] = MIGRATIONS): Promise<void> {
  const pending = (await migrationStatus(db, migrations)).filter((row) => row.state === 'pending');
  if (pending.length > 0) {
    const names = pending.map((row) => `${row.version} ${row.name}`).join(', ');
    throw new MigrationError(`the database schema is not up to date; run sql-migrate (pending: ${names})`);
  }
}

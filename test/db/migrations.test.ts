// sql-migrate and sql-migrate-status against a real server.
import t from 'tap';
import {
  DatabasePool,
  MIGRATIONS,
  MigrationError,
  assertMigrated,
  migrate,
  migrationStatus,
  type Migration,
} from '../../src/db/index.js';
import { freshDatabase, startTestServer } from './test-server.js';

const server = await startTestServer(t);

t.test('a new database: all pending, then all applied once, then nothing to do', async (t) => {
  const pool = await freshDatabase(t, server, { migrated: false });
  const before = await migrationStatus(pool);
  t.same(
    before.map((row) => [row.version, row.state]),
    MIGRATIONS.map((m) => [m.version, 'pending']),
  );
  await t.rejects(assertMigrated(pool), MigrationError, 'a router refuses an unmigrated schema');

  const applied = await migrate(pool);
  t.same(
    applied.map((m) => m.version),
    MIGRATIONS.map((m) => m.version),
  );
  const after = await migrationStatus(pool);
  t.ok(
    after.every((row) => row.state === 'applied' && row.appliedAt instanceof Date),
    'every migration applied, with its time',
  );
  await assertMigrated(pool);

  t.same(await migrate(pool), [], 'running again is a no-op');
  const tables = await pool.query<{ name: string }>(
    "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
  );
  t.same(
    tables.rows.map((r) => r.name),
    ['replication_queue', 'replication_queue_lock', 'repositories', 'schema_migrations'],
  );
});

t.test('routers migrating at the same time apply each migration exactly once', async (t) => {
  const first = await freshDatabase(t, server, { migrated: false });
  const database = (await first.query<{ db: string }>('SELECT current_database() AS db')).rows[0]?.db ?? '';
  const pools = [first, ...[1, 2, 3, 4].map(() => new DatabasePool({ ...server.connection(), database }))];
  t.teardown(() => Promise.all(pools.slice(1).map((p) => p.close())));
  const results = await Promise.all(pools.map((p) => migrate(p)));
  const total = results.reduce((n, applied) => n + applied.length, 0);
  t.equal(total, MIGRATIONS.length, 'each applied by exactly one router');
  const rows = await first.query('SELECT version FROM schema_migrations');
  t.equal(rows.rowCount, MIGRATIONS.length);
});

t.test('a failing migration leaves nothing behind and is reported as MigrationError', async (t) => {
  const pool = await freshDatabase(t, server, { migrated: false });
  const broken: Migration[] = [
    ...MIGRATIONS,
    { version: 900, name: 'half_done', sql: 'CREATE TABLE half (v int); SELECT * FROM does_not_exist;' },
  ];
  await t.rejects(migrate(pool, broken), { name: 'MigrationError', message: /900 \(half_done\)/ });
  const status = await migrationStatus(pool, broken);
  t.same(
    status.map((row) => row.state),
    [...MIGRATIONS.map(() => 'applied'), 'pending'],
    'the good ones stay applied, the broken one is pending',
  );
  const half = await pool.query("SELECT to_regclass('half') IS NULL AS absent");
  t.equal(half.rows[0]?.absent, true, 'its partial work was rolled back');
});

t.test('versions applied by a newer build show as unknown', async (t) => {
  const pool = await freshDatabase(t, server);
  await pool.query("INSERT INTO schema_migrations (version, name) VALUES (9999, 'from_the_future')");
  const status = await migrationStatus(pool);
  t.match(status.at(-1), { version: 9999, name: 'from_the_future', state: 'unknown' });
  await assertMigrated(pool);
  t.pass('an unknown newer migration does not stop an older router');
});

t.test('migrations run in version order, whatever order they are listed in', async (t) => {
  const pool = await freshDatabase(t, server, { migrated: false });
  const shuffled = [...MIGRATIONS].reverse();
  const applied = await migrate(pool, shuffled);
  t.same(
    applied.map((m) => m.version),
    MIGRATIONS.map((m) => m.version),
  );
});

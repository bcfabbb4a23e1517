// The bounded pool against a real server and real faults: statement timeouts,
// exhaustion, a stopped server, a killed one and a paused one. Every failure
// must be a typed error within a bounded time, never a crash or a hang, and the
// same pool must work again once the server is back.
import t from 'tap';
import {
  DatabasePool,
  DatabaseUnavailableError,
  PoolExhaustedError,
  QueryFailedError,
  QueryTimeoutError,
  type DatabaseError,
} from '../../src/db/index.js';
import { freshDatabase, sleep, startTestServer, timed } from './test-server.js';

const server = await startTestServer(t);

t.test('a statement past statement_timeout is cancelled by the server; the session stays usable', async (t) => {
  const pool = await freshDatabase(t, server, { statementTimeoutMs: 200, migrated: false });
  await pool.ping();
  const opened = pool.stats().open;
  const slow = await timed(() => pool.query('SELECT pg_sleep(5)'));
  t.type(slow.error, QueryTimeoutError);
  t.match(slow.error, { code: 'DB_QUERY_TIMEOUT', side: 'server', retryable: true });
  t.ok(slow.ms < 1000, `cancelled after ${slow.ms.toFixed(0)} ms`);
  t.equal((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one, 1);
  t.equal(pool.stats().open, opened, 'no session was thrown away');
});

t.test('a rejected statement is QueryFailedError with its SQLSTATE; the session is kept', async (t) => {
  const pool = await freshDatabase(t, server, { migrated: false });
  await pool.ping();
  await t.rejects(pool.query('SELEC 1'), { name: 'QueryFailedError', sqlState: '42601', retryable: false });
  await t.rejects(pool.query('SELECT $1::int', ['x']), QueryFailedError);
  t.equal(pool.stats().open, 1);
});

t.test('transactions commit on success and roll back on any throw', async (t) => {
  const pool = await freshDatabase(t, server, { migrated: false });
  await pool.query('CREATE TABLE items (v int)');
  await pool.transaction(async (tx) => {
    await tx.query('INSERT INTO items VALUES (1)');
  });
  await t.rejects(
    pool.transaction(async (tx) => {
      await tx.query('INSERT INTO items VALUES (2)');
      throw new Error('not a database error');
    }),
    { message: 'not a database error' },
    'the caller sees its own error unchanged',
  );
  await t.rejects(
    pool.transaction(async (tx) => {
      await tx.query('INSERT INTO items VALUES (3)');
      await tx.query('INSERT INTO missing VALUES (3)');
    }),
    QueryFailedError,
  );
  const rows = await pool.query<{ v: number }>('SELECT v FROM items ORDER BY v');
  t.same(
    rows.rows.map((r) => r.v),
    [1],
  );
  t.same(pool.stats().inUse, 0, 'every session came back');
});

t.test('exhaustion: callers wait at most the bound, then PoolExhaustedError', async (t) => {
  const pool = await freshDatabase(t, server, { maxConnections: 2, acquireTimeoutMs: 300, migrated: false });
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const holders = [0, 1].map(() => pool.transaction(() => gate));
  await sleep(50);
  t.equal(pool.stats().inUse, 2);
  const refused = await timed(() => pool.query('SELECT 1'));
  t.type(refused.error, PoolExhaustedError);
  t.match(refused.error, { code: 'DB_POOL_EXHAUSTED', maxConnections: 2, retryable: true });
  t.ok(refused.ms >= 280 && refused.ms < 1000, `refused after ${refused.ms.toFixed(0)} ms`);

  // Waiters that get a session within the bound are served.
  const waiters = [1, 2, 3].map(() => pool.query('SELECT 1'));
  await sleep(50);
  t.equal(pool.stats().waiting, 3);
  release();
  await Promise.all([...holders, ...waiters]);
  t.equal(pool.stats().open, 2, 'never more than maxConnections sessions');
});

t.test('server stopped: queries fail fast with DatabaseUnavailableError, then the same pool recovers', async (t) => {
  const idleErrors: DatabaseError[] = [];
  const pool = await freshDatabase(t, server, { migrated: false, onIdleError: (err) => idleErrors.push(err) });
  await Promise.all([pool.ping(), pool.ping(), pool.ping()]);
  await server.stop();
  await sleep(50);
  for (let i = 0; i < 3; i += 1) {
    const failed = await timed(() => pool.query('SELECT 1'));
    t.type(failed.error, DatabaseUnavailableError);
    t.ok(failed.ms < 500, `failed in ${failed.ms.toFixed(1)} ms`);
  }
  t.ok(idleErrors.length > 0, 'idle sessions reported their loss without crashing us');
  t.ok(
    idleErrors.every((e) => e instanceof DatabaseUnavailableError),
    'as DatabaseUnavailableError',
  );
  await server.start();
  t.equal((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one, 1, 'served again');
});

t.test('server killed mid-transaction: the caller gets DatabaseUnavailableError, and the pool recovers', async (t) => {
  const pool = await freshDatabase(t, server, { migrated: false });
  const inFlight = timed(() =>
    pool.transaction(async (tx) => {
      await tx.query('SELECT 1');
      await tx.query('SELECT pg_sleep(10)');
    }),
  );
  await sleep(100);
  await server.kill();
  const failed = await inFlight;
  t.type(failed.error, DatabaseUnavailableError);
  t.equal(pool.stats().inUse, 0);
  t.type((await timed(() => pool.query('SELECT 1'))).error, DatabaseUnavailableError);
  await server.start();
  await pool.ping();
  t.pass('served again after crash recovery');
});

t.test('server paused: an open session times out on the client, a new one on connect', async (t) => {
  const pool = await freshDatabase(t, server, {
    migrated: false,
    maxConnections: 2,
    statementTimeoutMs: 300,
    clientTimeoutGraceMs: 300,
    connectTimeoutMs: 400,
  });
  await pool.ping();
  t.equal(pool.stats().open, 1);
  await server.pause();
  t.teardown(() => server.resume());

  // The open session: the server cannot enforce its statement timeout while
  // stopped, so the client-side bound (statement timeout + grace) answers.
  const onOpen = await timed(() => pool.query('SELECT 1'));
  t.type(onOpen.error, QueryTimeoutError);
  t.match(onOpen.error, { side: 'client', timeoutMs: 600 });
  t.ok(onOpen.ms >= 550 && onOpen.ms < 1500, `client timeout after ${onOpen.ms.toFixed(0)} ms`);

  // That session was discarded; the next query must connect, and the kernel
  // completes the handshake for a stopped server, so only the bound helps.
  const onNew = await timed(() => pool.query('SELECT 1'));
  t.type(onNew.error, DatabaseUnavailableError);
  t.ok(onNew.ms >= 350 && onNew.ms < 1500, `connect timeout after ${onNew.ms.toFixed(0)} ms`);
  t.equal(pool.stats().inUse, 0);

  server.resume();
  t.equal((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one, 1, 'served again');
});

t.test('a paused server and a full pool: callers behind the stuck ones get PoolExhaustedError', async (t) => {
  const pool = await freshDatabase(t, server, {
    migrated: false,
    maxConnections: 1,
    acquireTimeoutMs: 200,
    statementTimeoutMs: 1000,
    clientTimeoutGraceMs: 500,
  });
  await pool.ping();
  await server.pause();
  t.teardown(() => server.resume());
  const stuck = timed(() => pool.query('SELECT 1'));
  await sleep(20);
  const behind = await timed(() => pool.query('SELECT 1'));
  t.type(behind.error, PoolExhaustedError);
  t.ok(behind.ms < 600, `refused after ${behind.ms.toFixed(0)} ms`);
  t.type((await stuck).error, QueryTimeoutError);
  server.resume();
  await pool.ping();
});

t.test('a closed pool refuses new work', async (t) => {
  const pool = new DatabasePool(server.connection());
  await pool.ping();
  await pool.close();
  await t.rejects(pool.query('SELECT 1'), DatabaseUnavailableError);
  await pool.close();
  t.pass('close is idempotent');
});

t.test('a wrong password or a missing database is DatabaseUnavailableError that says why', async (t) => {
  const wrongPassword = new DatabasePool({ ...server.connection(), password: 'wrong' });
  t.teardown(() => wrongPassword.close());
  await t.rejects(wrongPassword.ping(), { name: 'DatabaseUnavailableError', message: /password authentication failed/ });
  const missing = new DatabasePool({ ...server.connection(), database: 'no_such_database' });
  t.teardown(() => missing.close());
  await t.rejects(missing.ping(), { name: 'DatabaseUnavailableError', message: /does not exist/ });
  t.equal(missing.stats().inUse, 0, 'the failed checkouts gave their permits back');
});

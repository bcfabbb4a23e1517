// The embedded server's lifecycle against real PostgreSQL processes: data
// survives restarts of the same folder, a kill is recovered, pause freezes the
// whole process tree, and no server outlives the process that started it.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import t from 'tap';
import { EmbeddedDatabase, EmbeddedDatabaseError } from '../../src/db/index.js';
import { childPids, isRunning, waitUntilGone } from '../../src/db/process-tree.js';
import { startTestServer, timed } from './test-server.js';

async function scratchFolder(): Promise<string> {
  const parent = await mkdtemp(join(tmpdir(), 'praefect-db-test-'));
  await chmod(parent, 0o755);
  t.teardown(() => rm(parent, { recursive: true, force: true }));
  return parent;
}

/** Runs the statements in order and returns the first column of the last one's first row. */
async function scalar(db: EmbeddedDatabase, ...statements: string[]): Promise<unknown> {
  const client = new pg.Client(db.connection());
  await client.connect();
  try {
    let last: pg.QueryResult | undefined;
    for (const sql of statements) last = await client.query(sql);
    return Object.values(last?.rows[0] ?? {})[0];
  } finally {
    await client.end();
  }
}

t.test('data survives a stop and start, and a new handle on the same folder', async (t) => {
  const parent = await scratchFolder();
  const dataDir = join(parent, 'data');
  const first = await EmbeddedDatabase.start({ dataDir });
  t.teardown(() => first.stop());
  t.equal(first.state, 'running');
  t.ok(first.port > 0, 'a free port was chosen');
  await scalar(first, 'CREATE TABLE kept (v int)', 'INSERT INTO kept VALUES (42)');
  const port = first.port;

  await first.stop();
  t.equal(first.state, 'stopped');
  await first.start();
  t.equal(first.port, port, 'a restart keeps the port, so pools find the server again');
  t.equal(await scalar(first, 'SELECT v FROM kept'), 42);
  await first.stop();

  const again = await timed(() => EmbeddedDatabase.start({ dataDir }));
  const second = again.value as EmbeddedDatabase;
  t.teardown(() => second.stop());
  t.comment(`restart of an initialised folder: ${again.ms.toFixed(0)} ms (no initdb)`);
  t.equal(await scalar(second, 'SELECT v FROM kept'), 42);
});

t.test('kill is a crash: every process goes at once, and the next start recovers', async (t) => {
  const db = await startTestServer(t);
  await scalar(db, 'CREATE TABLE committed (v int)', 'INSERT INTO committed VALUES (7)');
  const pid = db.pid as number;
  const children = childPids(pid);
  t.ok(children.length > 0, 'the postmaster has helper processes');
  await db.kill();
  t.equal(db.state, 'stopped');
  t.notOk(isRunning(pid), 'postmaster gone');
  t.ok(
    children.every((c) => !isRunning(c)),
    'every backend and helper gone',
  );
  await db.start();
  t.equal(await scalar(db, 'SELECT v FROM committed'), 7, 'committed data survived the crash');
});

t.test('pause stops every process of the server; resume continues', async (t) => {
  const db = await startTestServer(t);
  const pid = db.pid as number;
  await db.pause();
  t.equal(db.state, 'paused');
  // A backend that just exited is a zombie until the paused postmaster reaps it.
  const states = [pid, ...childPids(pid)].map((p) => procState(p)).filter((s) => s !== 'Z');
  t.ok(
    states.every((s) => s === 'T'),
    `all stopped: ${states.join('')}`,
  );
  db.resume();
  t.equal(db.state, 'running');
  t.equal(await scalar(db, 'SELECT 1'), 1);
});

t.test('stop of a paused server resumes it first and shuts down cleanly', async (t) => {
  const db = await startTestServer(t);
  const pid = db.pid as number;
  await db.pause();
  const stopped = await timed(() => db.stop());
  t.notOk(isRunning(pid));
  t.ok(stopped.ms < 5000, `stopped in ${stopped.ms.toFixed(0)} ms`);
});

t.test('a port the caller chose that is taken fails the start with the server log', async (t) => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
  const port = (blocker.address() as AddressInfo).port;
  const parent = await scratchFolder();
  await t.rejects(EmbeddedDatabase.start({ dataDir: join(parent, 'data'), port }), {
    name: 'EmbeddedDatabaseError',
    message: /exited during start[\s\S]*(could not bind|Address already in use)/,
  });
});

t.test('a folder that is neither empty nor a data folder is refused', async (t) => {
  const parent = await scratchFolder();
  const dataDir = join(parent, 'not-pg');
  await mkdir(dataDir);
  await writeFile(join(dataDir, 'something'), 'x');
  await t.rejects(EmbeddedDatabase.start({ dataDir }), EmbeddedDatabaseError);
});

t.test('as root, an unreachable parent folder is named in the error', { skip: process.getuid?.() !== 0 }, async (t) => {
  const parent = await mkdtemp(join(tmpdir(), 'praefect-db-test-'));
  t.teardown(() => rm(parent, { recursive: true, force: true }));
  // mkdtemp's 0700: the postgres account cannot pass through.
  await t.rejects(EmbeddedDatabase.start({ dataDir: join(parent, 'data') }), {
    name: 'EmbeddedDatabaseError',
    message: new RegExp(`cannot reach ${parent}`),
  });
});

function procState(pid: number): string {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2, text.lastIndexOf(')') + 3);
  } catch {
    return '?';
  }
}

const CHILD = fileURLToPath(new URL('./orphan-child.ts', import.meta.url));

/** Starts orphan-child.ts in its own node process and learns its server's pid. */
async function startOrphanChild(dataDir: string, mode: string): Promise<{ child: ReturnType<typeof spawn>; serverPid: number }> {
  // The same TypeScript loader tap gave us, without tap's coverage hooks.
  const loader = process.execArgv.filter((arg) => arg.includes('typescript'));
  const child = spawn(process.execPath, [...loader, CHILD, dataDir, mode], {
    env: { ...process.env, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`orphan child exited early (${code})`)));
  });
  const { pid } = JSON.parse(line) as { pid: number };
  return { child, serverPid: pid };
}

for (const mode of ['wait', 'pause', 'exit'] as const) {
  const how = { wait: 'SIGKILL of', pause: 'SIGKILL of (server paused)', exit: 'process.exit() in' }[mode];
  t.test(`no server outlives its parent: ${how} the process that started it`, async (t) => {
    const parent = await scratchFolder();
    const { child, serverPid } = await startOrphanChild(join(parent, 'data'), mode);
    const tree = [serverPid, ...childPids(serverPid)];
    t.teardown(() => {
      // Only if the guard failed: do not leave the evidence running.
      for (const pid of tree) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    });
    if (mode !== 'exit') child.kill('SIGKILL');
    const gone = await timed(() => waitUntilGone(tree, 15_000));
    t.equal(gone.value, true, `server tree gone after ${gone.ms.toFixed(0)} ms`);
  });
}

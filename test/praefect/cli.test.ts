// bin/praefect's own commands, run as a real process: usage, configuration
// validation by key path, and the database commands against a real server.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { findProjectRoot } from '../../src/protocol/index.js';
import { startTestServer } from '../db/test-server.js';

// The compiled CLI the bin imports; tap's environment makes node load an extensionless bin as CommonJS.
const CLI = pathToFileURL(path.join(findProjectRoot(), 'dist', 'src', 'cli', 'index.js')).href;
const SCRIPT = `const m = await import(${JSON.stringify(CLI)}); process.exit(await m.runPraefectCli(process.argv.slice(1)));`;

function praefect(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env['NODE_OPTIONS'];
  return new Promise((resolve) => {
    execFile(process.execPath, ['--input-type=module', '-e', SCRIPT, '--', ...args], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

function config(database: { host: string; port: number; user: string; password?: string }, dbname = 'praefect'): string {
  return `
listen_addr = "127.0.0.1:2305"
[[virtual_storage]]
name = "default"
[[virtual_storage.node]]
storage = "gitaly-1"
address = "tcp://127.0.0.1:8075"
[database]
host = "${database.host}"
port = ${database.port}
user = "${database.user}"
dbname = "${dbname}"
${database.password === undefined ? '' : `password = "${database.password}"`}
[raft]
node_id = 1
data_dir = "/tmp/praefect-cli-test-raft"
peers = [{ id = 1, address = "127.0.0.1:2306" }]
`;
}

t.test('praefect commands', async (t) => {
  const dir = t.testdir();

  t.test('--help lists the commands; a bad flag exits 2 and says why', async (t) => {
    const help = await praefect(['--help']);
    t.equal(help.code, 0);
    for (const command of ['serve', 'sql-migrate', 'sql-migrate-status', 'sql-ping', 'configuration']) t.match(help.stdout, command);
    const bad = await praefect(['--bogus-flag']);
    t.equal(bad.code, 2);
    t.match(bad.stderr, /bogus-flag/);
  });

  t.test('configuration validate names the key path of every problem', async (t) => {
    const good = path.join(dir, 'good.toml');
    await writeFile(good, config({ host: '127.0.0.1', port: 5432, user: 'praefect' }));
    const ok = await praefect(['-config', good, 'configuration', 'validate']);
    t.equal(ok.code, 0, ok.stderr);
    t.match(ok.stdout, /valid/);
    const bad = path.join(dir, 'bad.toml');
    await writeFile(bad, `${config({ host: '127.0.0.1', port: 5432, user: 'praefect' })}\n[failover]\nmonitor_interval = "1ms"\nno_such_key = 1\n`);
    const refused = await praefect(['--config', bad, 'configuration', 'validate']);
    t.equal(refused.code, 2);
    t.match(refused.stderr, /failover\.monitor_interval/);
    t.match(refused.stderr, /failover\.no_such_key/);
    const missing = await praefect(['configuration', 'validate']);
    t.equal(missing.code, 2);
    t.match(missing.stderr, /--config/);
  });

  t.test('sql-migrate, sql-migrate-status and sql-ping against a real PostgreSQL', async (t) => {
    const server = await startTestServer(t);
    const file = path.join(dir, 'db.toml');
    await writeFile(file, config(server.connection()));
    const ping = await praefect(['-config', file, 'sql-ping']);
    t.equal(ping.code, 0, ping.stderr);
    t.match(ping.stdout, /OK/);
    const before = await praefect(['-config', file, 'sql-migrate-status']);
    t.match(before.stdout, /\bno\b/, 'migrations are pending before sql-migrate');
    const migrated = await praefect(['-config', file, 'sql-migrate']);
    t.equal(migrated.code, 0, migrated.stderr);
    t.match(migrated.stdout, /applied \d+ /);
    const again = await praefect(['-config', file, 'sql-migrate']);
    t.match(again.stdout, /applied 0 migrations/, 'idempotent');
    const after = await praefect(['-config', file, 'sql-migrate-status']);
    t.notMatch(after.stdout, /\sno\n/, 'nothing pending');
    const unreachable = path.join(dir, 'down.toml');
    await writeFile(unreachable, config({ host: '127.0.0.1', port: 1, user: 'praefect' }));
    const down = await praefect(['-config', unreachable, 'sql-ping']);
    t.equal(down.code, 1);
    t.match(down.stderr, /praefect: /, 'a failure names what went wrong');
  });
});

// Run as a separate process by embedded-database.test.ts: starts a server, says
// where it is, then misbehaves as told, without ever calling stop().
import { EmbeddedDatabase } from '../../src/db/index.js';

const [dataDir, mode] = process.argv.slice(2);
if (dataDir === undefined) throw new Error('usage: orphan-child <dataDir> <wait|pause|exit>');
const db = await EmbeddedDatabase.start({ dataDir });
process.stdout.write(`${JSON.stringify({ pid: db.pid, port: db.port })}\n`);
if (mode === 'pause') await db.pause();
if (mode === 'exit') process.exit(0);
// Otherwise wait to be killed.
setInterval(() => undefined, 60_000);

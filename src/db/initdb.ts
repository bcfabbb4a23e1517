// Creates a database cluster in an empty data folder with initdb.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedDatabaseError } from './errors.js';
import type { ServerAccount } from './server-account.js';

export interface InitdbOptions {
  initdbPath: string;
  dataDir: string;
  superuser: string;
  password: string;
  account: ServerAccount | undefined;
}

export async function runInitdb(options: InitdbOptions): Promise<void> {
  // initdb reads the password from a file only; the file must be readable by
  // the account it runs as, and nobody else.
  const passwordFile = join(tmpdir(), `praefect-initdb-${randomBytes(6).toString('hex')}`);
  await writeFile(passwordFile, `${options.password}\n`, { mode: 0o600 });
  try {
    if (options.account !== undefined) await chown(passwordFile, options.account.uid, options.account.gid);
    await execute(options, passwordFile);
  } finally {
    await rm(passwordFile, { force: true });
  }
}

function execute(options: InitdbOptions, passwordFile: string): Promise<void> {
  const args = [
    `--pgdata=${options.dataDir}`,
    `--username=${options.superuser}`,
    `--pwfile=${passwordFile}`,
    '--auth=scram-sha-256',
    '--encoding=UTF8',
    // The C locale needs nothing installed on the host and sorts by bytes.
    '--locale=C',
    '--no-instructions',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(options.initdbPath, args, {
      uid: options.account?.uid,
      gid: options.account?.gid,
      env: { ...process.env, LC_ALL: 'C' },
      // Our working folder may be unreachable for the server's account.
      cwd: '/',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', (err) => reject(new EmbeddedDatabaseError(`initdb could not start: ${err.message}`, { cause: err })));
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new EmbeddedDatabaseError(`initdb failed (${signal ?? `exit ${code}`}): ${output.trim()}`));
    });
  });
}

// Starts helper-built bin/gitaly (the storage node) as a real process on
// 127.0.0.1 with a temporary storage, and learns its port from its log.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { PROJECT_ROOT } from './gateway-process.js';

export const GITALY_BIN = path.join(PROJECT_ROOT, 'bin', 'gitaly');
export const GITALY_DIST = path.join(PROJECT_ROOT, 'dist', 'src', 'gitaly', 'index.js');

export interface GitalyProcess {
  address: string;
  storageName: string;
  storageDir: string;
  stop(): Promise<number | null>;
}

export function gitalyBuilt(): boolean {
  return existsSync(GITALY_BIN) && existsSync(GITALY_DIST);
}

export async function startGitalyProcess(token: string): Promise<GitalyProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gateway-gitaly-'));
  const storageDir = path.join(dir, 'storage');
  const configFile = path.join(dir, 'config.toml');
  writeFileSync(
    configFile,
    [
      'listen_addr = "127.0.0.1:0"',
      '[[storage]]',
      'name = "default"',
      `path = ${JSON.stringify(storageDir)}`,
      '[auth]',
      `token = ${JSON.stringify(token)}`,
      '',
    ].join('\n'),
  );
  // `env -u NODE_OPTIONS`: see gateway-process.ts.
  const child = spawn('env', ['-u', 'NODE_OPTIONS', process.execPath, GITALY_BIN, configFile], {
    env: { PATH: process.env.PATH },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit') as Promise<[number | null]>;
  const address = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; address?: string };
      if (entry.msg === 'storage node listening' && entry.address !== undefined) resolve(entry.address);
    });
    void exited.then(([code]) => reject(new Error(`bin/gitaly exited with ${code} before listening: ${stderr}`)));
  });
  return {
    address,
    storageName: 'default',
    storageDir,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const [code] = await exited;
      return code;
    },
  };
}

// Starts bin/git-gateway as a real process on 127.0.0.1 and learns its port
// from the "git gateway listening" log line.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const GATEWAY_BIN = path.join(PROJECT_ROOT, 'bin', 'git-gateway');
export const GATEWAY_DIST = path.join(PROJECT_ROOT, 'dist', 'src', 'gateway', 'index.js');

export interface GatewayProcess {
  base: string;
  child: ChildProcess;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

export function gatewayBuilt(): boolean {
  return existsSync(GATEWAY_DIST);
}

export async function startGatewayProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<GatewayProcess> {
  // Through `env -u NODE_OPTIONS`: tap's coverage hooks inject loaders into
  // child node processes, and under them an extensionless ESM bin file fails
  // to load (ERR_REQUIRE_CYCLE_MODULE). The gateway runs as it would in use.
  const child = spawn('env', ['-u', 'NODE_OPTIONS', process.execPath, GATEWAY_BIN, '--listen', '127.0.0.1:0', ...args], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit') as Promise<[number | null]>;
  const address = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; address?: string };
      if (entry.msg === 'git gateway listening' && entry.address !== undefined) resolve(entry.address);
    });
    void exited.then(([code]) => reject(new Error(`git-gateway exited with ${code} before listening: ${stderr}`)));
  });
  return {
    base: `http://${address}`,
    child,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const [code] = await exited;
      return code;
    },
  };
}

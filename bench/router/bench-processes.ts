// Starting the bench's processes (storage node, proxies, load clients) from
// compiled .js files, and reading their CPU time from /proc.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { findProjectRoot } from '../../src/protocol/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CLOCK_TICKS_PER_SEC = clockTicks();

function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
}

/** The environment of children: no inherited loaders, so they run as in production. */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['NODE_OPTIONS'];
  return env;
}

/** A compiled file next to this one (dist/bench/router/<name>.js). */
export function spawnSibling(name: string, args: readonly string[], nodeFlags: readonly string[] = []): ChildProcess {
  return spawn(process.execPath, [...nodeFlags, path.join(here, `${name}.js`), ...args], { env: childEnv(), stdio: ['ignore', 'pipe', 'inherit'] });
}

/** The storage node: the compiled src/gitaly run through its main(). */
export function spawnStorageNode(configFile: string, nodeFlags: readonly string[] = []): ChildProcess {
  const entry = pathToFileURL(path.join(findProjectRoot(), 'dist', 'src', 'gitaly', 'index.js')).href;
  const script = `const { main } = await import(${JSON.stringify(entry)}); process.exit(await main(process.argv.slice(1)));`;
  return spawn(process.execPath, [...nodeFlags, '--input-type=module', '-e', script, '--', configFile], { env: childEnv(), stdio: ['ignore', 'pipe', 'inherit'] });
}

/** Resolves with the first JSON line on stdout for which `accept` holds. */
export function jsonLine<T>(child: ChildProcess, accept: (entry: Record<string, unknown>) => boolean = () => true): Promise<T> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const onExit = (code: number | null): void => reject(new Error(`process ${child.pid} exited with ${code} before its line`));
    child.once('exit', onExit);
    lines.on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      if (!accept(entry)) return;
      child.removeListener('exit', onExit);
      resolve(entry as T);
    });
  });
}

/** utime + stime of the process (all its threads), in microseconds. */
export function cpuMicros(pid: number): number {
  const [utime, stime] = statTicks(pid);
  return ((utime + stime) * 1e6) / CLOCK_TICKS_PER_SEC;
}

/**
 * The same plus its children it has reaped (cutime + cstime: git runs, and
 * the hooks git ran). Children still running are not in it yet.
 */
export function cpuWithChildrenMicros(pid: number): number {
  const [utime, stime, cutime, cstime] = statTicks(pid);
  return ((utime + stime + cutime + cstime) * 1e6) / CLOCK_TICKS_PER_SEC;
}

/** utime, stime, cutime, cstime from /proc/<pid>/stat, in clock ticks. */
function statTicks(pid: number): [number, number, number, number] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [Number(fields[11]), Number(fields[12]), Number(fields[13]), Number(fields[14])];
}

/** Busy and total CPU time of the whole machine, in ticks (from /proc/stat). */
export function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((sum, v) => sum + v, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}

export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** A TCP port that was free a moment ago on `host`. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const port = (server.address() as AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

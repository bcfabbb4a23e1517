// A child process of the local cluster: started from a compiled module, its
// output kept in a log file, ready when it logs a given message, and
// stoppable, killable, pausable and restartable with real signals.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { pathToFileURL } from 'node:url';

export interface ProcessSpec {
  readonly name: string;
  /** A compiled ESM module and the export to call with `args` (it returns the exit code). */
  readonly modulePath: string;
  readonly exportName: string;
  readonly args: readonly string[];
  readonly logFile: string;
  /** The JSON log line `msg` that says the process is serving. */
  readonly readyMessage: string;
  readonly readyTimeoutMs: number;
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Argv run before node, which must exec it in place (so the pid, and every
   * signal sent to it, are node's): `ip netns exec <ns>` starts the process
   * inside a network namespace.
   */
  readonly commandPrefix?: readonly string[];
}

export class ProcessStartError extends Error {
  readonly code = 'LOCAL_CLUSTER_PROCESS_START';
}

export class ManagedProcess {
  private child: ChildProcess | undefined;
  private log: WriteStream | undefined;
  private exited: Promise<unknown> = Promise.resolve();
  private envOverrides: NodeJS.ProcessEnv = {};

  constructor(readonly spec: ProcessSpec) {}

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Starts the process and resolves with the fields of its ready line.
   * `env` replaces the extra environment of this and later starts (a test
   * restarts a node with a failpoint, and again without).
   */
  async start(env?: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
    if (this.running) throw new ProcessStartError(`${this.spec.name} is already running (pid ${this.child?.pid})`);
    if (env !== undefined) this.envOverrides = env;
    this.log = createWriteStream(this.spec.logFile, { flags: 'a' });
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...this.spec.env, ...this.envOverrides };
    // Test runners load hooks through NODE_OPTIONS that break compiled ESM children.
    delete childEnv['NODE_OPTIONS'];
    const [command, ...args] = [...(this.spec.commandPrefix ?? []), process.execPath, ...moduleArgs(this.spec)] as [string, ...string[]];
    const child = spawn(command, args, { env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = once(child, 'exit');
    child.stderr?.pipe(this.log, { end: false });
    return this.waitReady(child);
  }

  /**
   * Scans stdout for the ready line, then stops looking: from then on stdout
   * goes to the log file untouched (a router logs a line per call, and
   * parsing them would cost the parent CPU on the same machine).
   */
  private waitReady(child: ChildProcess): Promise<Record<string, unknown>> {
    const { name, readyMessage, readyTimeoutMs } = this.spec;
    child.stdout!.pipe(this.log!, { end: false });
    return new Promise((resolve, reject) => {
      let pending = '';
      const onData = (chunk: Buffer): void => {
        pending += chunk.toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          const entry = parseJson(line);
          if (entry?.['msg'] === readyMessage) return settle(() => resolve(entry));
        }
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
        settle(() => reject(new ProcessStartError(`${name} exited (${signal ?? `code ${code}`}) before it was ready; see ${this.spec.logFile}`)));
      const timer = setTimeout(() => settle(() => reject(new ProcessStartError(`${name} did not log "${readyMessage}" within ${readyTimeoutMs} ms; see ${this.spec.logFile}`))), readyTimeoutMs);
      const settle = (fn: () => void): void => {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.off('exit', onExit);
        fn();
      };
      child.stdout!.on('data', onData);
      child.once('exit', onExit);
    });
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child?.kill(signal);
  }

  /** SIGKILL, and wait until it is gone. */
  async kill(): Promise<void> {
    this.signal('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, then SIGKILL after graceMs. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.child?.kill('SIGCONT');
    this.child?.kill('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
    this.log?.end();
  }

  pause(): void {
    this.signal('SIGSTOP');
  }

  resume(): void {
    this.signal('SIGCONT');
  }
}

// The child's stdin is a pipe from this process: when this process dies, even
// by SIGKILL, the pipe closes and the child stops itself (SIGTERM, a clean
// shutdown), so no process of the cluster outlives its parent.
const ORPHAN_GUARD = "process.stdin.on('end', () => process.kill(process.pid, 'SIGTERM')); process.stdin.resume();";

function moduleArgs(spec: ProcessSpec): string[] {
  const script = `${ORPHAN_GUARD} const m = await import(${JSON.stringify(pathToFileURL(spec.modulePath).href)}); const code = await m.${spec.exportName}(process.argv.slice(1)); if (typeof code === 'number') process.exit(code);`;
  return ['--input-type=module', '-e', script, '--', ...spec.args];
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

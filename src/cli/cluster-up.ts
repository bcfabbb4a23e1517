// `bin/cluster up`: a whole local cluster (embedded PostgreSQL, storage nodes,
// routers in one Raft group, the git HTTP gateway) under one folder, until
// Ctrl-C; started again on the same folder, it resumes with all its state.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { LocalCluster } from '../local-cluster/index.js';
import { findProjectRoot } from '../protocol/index.js';
import { AdminClient } from '../admin/index.js';
import { CommandFailedError, describeError, readLayout, UsageError } from './cluster-target.js';

export interface UpOptions {
  readonly dir: string;
  readonly routers?: number;
  readonly storages?: number;
  /** Start, print, stop: for tests and smoke checks. */
  readonly exit: boolean;
  readonly logLevel: string;
  /** Resolves when the cluster should stop (default: SIGINT or SIGTERM). */
  readonly stopSignal?: Promise<unknown>;
}

const say = (line: string): void => void process.stdout.write(`${line}\n`);

export async function clusterUp(options: UpOptions): Promise<number> {
  const dir = path.resolve(options.dir);
  const existing = readLayout(dir);
  const routers = options.routers ?? existing?.routers.length ?? 3;
  const storages = options.storages ?? existing?.storages.length ?? 3;
  if (routers < 1 || storages < 1) throw new UsageError('--routers and --storages must be at least 1');
  // PostgreSQL runs under its own account when we are root: it must pass through this folder.
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const startedMs = performance.now();
  say(existing === undefined ? `Creating a cluster in ${dir}: ${routers} routers, ${storages} storage nodes` : `Resuming the cluster in ${dir}: ${routers} routers, ${storages} storage nodes`);
  const stop = options.stopSignal ?? stopSignal();
  const cluster = await LocalCluster.start({ dir, routers, storages, logLevel: options.logLevel, onProgress: (message) => say(`  … ${message}`) });
  await waitUntilServing(cluster);
  say(readyBanner(cluster, (performance.now() - startedMs) / 1000, options.exit));
  if (!options.exit) await stop;
  say('Stopping the cluster…');
  await cluster.stop();
  say('Stopped; every process has exited. Run the same `up` command to resume.');
  return 0;
}

/** Processes that listen are not yet a cluster: wait for a Raft leader and storage nodes healthy by quorum. */
async function waitUntilServing(cluster: LocalCluster, timeoutMs = 60_000): Promise<void> {
  say('  … waiting for the routers to elect a Raft leader and agree the storage nodes are healthy');
  const admin = new AdminClient(cluster.routers[0]!.address, { token: cluster.layout.token, timeoutMs: 5_000 });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const state = await admin.clusterState(true).catch((error: unknown) => ({ fresh: false, fresh_error: describeError(error), storages: [] }));
      const healthy = state.storages.filter((s) => s.healthy).length;
      if (state.fresh && healthy === cluster.storages.length) return;
      const last = state.fresh ? `${healthy} of ${cluster.storages.length} storage nodes healthy` : state.fresh_error;
      if (Date.now() > deadline) {
        await cluster.stop();
        throw new CommandFailedError(`the cluster did not become ready within ${timeoutMs / 1000} s (${last}); see the logs in ${path.join(cluster.layout.dir, 'logs')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    admin.close();
  }
}

function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      // A second Ctrl-C while stopping must not kill us before the children are gone.
      process.on('SIGINT', () => say('Still stopping; waiting for every process to exit…'));
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/** How to run bin/cluster from here: relative when the project is the working folder. */
function clusterCommand(): string {
  const bin = path.join(findProjectRoot(), 'bin', 'cluster');
  const relative = path.relative(process.cwd(), bin);
  return relative.startsWith('..') ? bin : relative;
}

function readyBanner(cluster: LocalCluster, seconds: number, exit: boolean): string {
  const cli = clusterCommand();
  const dirArg = path.relative(process.cwd(), cluster.layout.dir) === 'cluster-data' ? '' : ` --dir ${cluster.layout.dir}`;
  const { host, postgresPort, virtualStorage } = cluster.layout;
  const rows = [
    ['PostgreSQL', `${host}:${postgresPort}`],
    ...cluster.storages.map((s) => [`storage ${s.name}`, s.address]),
    ...cluster.routers.map((r) => [`router ${r.name} (raft id ${r.id})`, `${r.address}  raft ${r.raftAddress}  metrics http://${r.metricsAddress}/metrics`]),
    ['git HTTP gateway', cluster.gitUrl],
  ];
  const width = Math.max(...rows.map((r) => r[0]!.length));
  const url = `${cluster.gitUrl}/my/project.git`;
  return [
    '',
    `Cluster ready in ${seconds.toFixed(1)} s. Data, logs and configuration: ${cluster.layout.dir}`,
    ...rows.map(([name, address]) => `  ${name!.padEnd(width)}  ${address}`),
    `  virtual storage: ${virtualStorage}; token (v2 secret): in ${path.join(cluster.layout.dir, 'cluster.json')}`,
    '',
    'Check it:',
    `  ${cli} status${dirArg}`,
    '',
    'Create a repository, then push to it and clone it with plain git:',
    `  ${cli} create-repository${dirArg} --relative-path my/project.git`,
    `  git init -q -b main demo && cd demo && git -c user.name=you -c user.email=you@example.com commit -q --allow-empty -m first && git push ${url} main && cd ..`,
    `  git clone ${url}`,
    '',
    exit ? 'Stopping now (--exit).' : 'Press Ctrl-C to stop everything.',
  ].join('\n');
}

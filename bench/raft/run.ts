// bench/raft: our Raft group against a 3-member etcd, same client load, same run.
// Not a test. Run: npm run build && node dist/bench/raft/run.js --help
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { findProjectRoot } from '../../src/protocol/index.js';
import { ensureEtcd, EtcdSystem } from './etcd.js';
import { failoverTrial, heal, type FailoverTrial } from './failover.js';
import { runLoad, type LoadResult } from './load.js';
import { OursSystem } from './ours.js';
import { buildRows, formatTable, summarizeFailover, type FailoverSummary } from './report.js';
import { stabilityRun, type StabilityResult } from './stability.js';
import { errorText, waitForAgreedLeader, type BenchSystem, type SystemName } from './system.js';

const startedAt = new Date();
const t0 = performance.now();
const say = (line: string) => console.log(`[bench ${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}`);

/** Fails when a port is taken: the bench must not measure whatever already listens there. */
async function checkPortsFree(ports: readonly number[]): Promise<void> {
  const taken: number[] = [];
  for (const port of ports) {
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (!free) taken.push(port);
  }
  if (taken.length) throw new Error(`ports already in use on 127.0.0.1: ${taken.join(', ')} (a leftover group or etcd? or choose other ports with --base-port / --etcd-client-port / --etcd-peer-port)`);
}

function gitHead(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: findProjectRoot(), encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: findProjectRoot(), encoding: 'utf8' }).trim();
    return dirty ? `${head} (with uncommitted changes)` : head;
  } catch {
    return 'unknown';
  }
}

function machine(etcdVersion: string | undefined): Record<string, unknown> {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  cpuModel = cpuModel.replace(/\s+/g, ' ').trim();
  let kernel = os.release();
  try {
    kernel = execFileSync('uname', ['-sr'], { encoding: 'utf8' }).trim();
  } catch {
    // keep os.release()
  }
  return {
    nproc: os.availableParallelism(),
    cpuModel,
    memoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    kernel,
    node: process.version,
    gitHead: gitHead(),
    etcd: etcdVersion ?? 'not available',
    loadAverageAtStart: os.loadavg().map((x) => Number(x.toFixed(2))),
  };
}

export async function main(argv: string[]): Promise<void> {
  const args = await yargs(hideBin(argv))
    .scriptName('bench/raft')
    .usage(
      '$0 [options]\n\n' +
        'Starts our 3-member Raft key/value group (bin/raft-kv-node, LevelDB with synced writes, gRPC) and a 3-member etcd ' +
        '(installed with apt-get if missing) on loopback, runs the same put load against both, SIGKILLs leaders, and prints one ' +
        'table: metric, ours, etcd, ratio ours/etcd, the target from issue 2 §5, met or not. Results go to bench/raft/results/.',
    )
    .option('systems', { type: 'array', string: true, default: ['ours', 'etcd'], choices: ['ours', 'etcd'], describe: 'which systems to run' })
    .option('phases', {
      type: 'array',
      string: true,
      default: ['throughput', 'failover'],
      choices: ['throughput', 'failover', 'stability'],
      describe: 'phases to run (stability is added when --stability-minutes > 0)',
    })
    .option('duration', { type: 'number', default: 10, describe: 'seconds of measured load per concurrency and system' })
    .option('warmup', { type: 'number', default: 1, describe: 'seconds of unmeasured load before each measurement' })
    .option('concurrency', { type: 'array', number: true, default: [1, 16, 64], describe: 'concurrent proposers (closed loop, one put in flight each)' })
    .option('follower', { type: 'boolean', default: false, describe: 'also run each concurrency through a follower' })
    .option('value-bytes', { type: 'number', default: 200, describe: 'bytes per value' })
    .option('trials', { type: 'number', default: 20, describe: 'failover trials per system (interleaved ours/etcd)' })
    .option('stability-minutes', { type: 'number', default: 0, describe: 'run the no-leader-change check for this many minutes per system (not in the default run)' })
    .option('stability-concurrency', { type: 'number', default: 16, describe: 'proposers during the stability run' })
    .option('tick-ms', { type: 'number', default: 100, describe: 'ours: Raft tick (heartbeat) interval' })
    .option('election-ticks', { type: 'number', default: 10, describe: 'ours: election timeout in ticks (randomized up to twice this)' })
    .option('etcd-heartbeat-ms', { type: 'number', describe: "etcd: --heartbeat-interval (omitted: etcd's default, 100)" })
    .option('etcd-election-ms', { type: 'number', describe: "etcd: --election-timeout (omitted: etcd's default, 1000)" })
    .option('etcd-bin', { type: 'string', default: 'etcd', describe: 'etcd binary' })
    .option('install', { type: 'boolean', default: true, describe: 'apt-get install etcd-server etcd-client when etcd is missing (--no-install to skip)' })
    .option('base-port', { type: 'number', default: 7301, describe: 'ours: members listen on base-port .. base-port+2' })
    .option('etcd-client-port', { type: 'number', default: 23791, describe: 'etcd: client ports start here' })
    .option('etcd-peer-port', { type: 'number', default: 23801, describe: 'etcd: peer ports start here' })
    .option('data-root', { type: 'string', default: os.tmpdir(), describe: 'a temporary folder for both systems is made under this (same disk for both)' })
    .option('keep-data', { type: 'boolean', default: false, describe: 'keep the data folder (and member logs) afterwards' })
    .option('cpu-prof', { type: 'boolean', default: false, describe: 'ours: run members with node --cpu-prof; profiles land in bench/raft/results/prof-<time>/ (written at the clean stop)' })
    .option('out', { type: 'string', describe: 'results JSON file (default bench/raft/results/<time>.json, also copied to latest.json)' })
    .strict()
    .version(false)
    .wrap(Math.min(120, process.stdout.columns || 120))
    .help()
    .parse();

  const systemsWanted = new Set(args.systems as SystemName[]);
  const phases = new Set(args.phases);
  if (args['stability-minutes'] > 0) phases.add('stability');
  const concurrencies = (args.concurrency as number[]).filter((c) => Number.isInteger(c) && c > 0);
  const resultsDir = path.join(findProjectRoot(), 'bench', 'raft', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');

  let etcdVersion: string | undefined;
  let etcdMissing: string | undefined;
  if (systemsWanted.has('etcd')) {
    const found = ensureEtcd(args['etcd-bin'], args.install, say);
    etcdVersion = found.version;
    if (!found.version) {
      etcdMissing = found.reason ?? 'unknown';
      systemsWanted.delete('etcd');
      say(`*** etcd is NOT available (${etcdMissing}): running ours alone; the etcd column stays empty ***`);
    } else say(`etcd ${found.version}`);
  }
  const machineInfo = machine(etcdVersion ?? (etcdMissing ? undefined : 'not run'));
  say(`machine: ${JSON.stringify(machineInfo)}`);

  const ports = [
    ...(systemsWanted.has('ours') ? [0, 1, 2].map((i) => args['base-port'] + i) : []),
    ...(systemsWanted.has('etcd') ? [0, 1, 2].flatMap((i) => [args['etcd-client-port'] + i, args['etcd-peer-port'] + i]) : []),
  ];
  await checkPortsFree(ports);

  const dataDir = mkdtempSync(path.join(args['data-root'], 'bench-raft-'));
  const profDir = args['cpu-prof'] ? path.join(resultsDir, `prof-${stamp}`) : undefined;
  if (profDir) mkdirSync(profDir, { recursive: true });
  const systems: BenchSystem[] = [];
  if (systemsWanted.has('ours')) {
    mkdirSync(path.join(dataDir, 'ours'));
    systems.push(
      new OursSystem({
        dataDir: path.join(dataDir, 'ours'),
        basePort: args['base-port'],
        valueBytes: args['value-bytes'],
        tickMs: args['tick-ms'],
        electionTicks: args['election-ticks'],
        ...(profDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] } : {}),
      }),
    );
  }
  if (systemsWanted.has('etcd')) {
    mkdirSync(path.join(dataDir, 'etcd'));
    systems.push(
      new EtcdSystem({
        bin: args['etcd-bin'],
        dataDir: path.join(dataDir, 'etcd'),
        clientBasePort: args['etcd-client-port'],
        peerBasePort: args['etcd-peer-port'],
        valueBytes: args['value-bytes'],
        ...(args['etcd-heartbeat-ms'] !== undefined ? { heartbeatMs: args['etcd-heartbeat-ms'] } : {}),
        ...(args['etcd-election-ms'] !== undefined ? { electionMs: args['etcd-election-ms'] } : {}),
      }),
    );
  }

  // Leave no process behind: a clean stop on the way out, SIGKILL as the last resort.
  let stopping: Promise<void> | undefined;
  const stopAll = () => (stopping ??= Promise.all(systems.map((s) => s.stop().catch(() => undefined))).then(() => undefined));
  const killSync = () => {
    for (const s of systems) for (const m of s.members) {
      const pid = s.pid(m);
      if (pid !== undefined) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  };
  process.once('exit', killSync);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      say(`${signal}: stopping every member`);
      void stopAll().finally(() => {
        if (!args['keep-data']) rmSync(dataDir, { recursive: true, force: true });
        process.exit(130);
      });
    });
  }

  const loads: LoadResult[] = [];
  const trials: FailoverTrial[] = [];
  const stability: StabilityResult[] = [];
  let failure: string | undefined;
  try {
    say(`data under ${dataDir}; starting ${systems.map((s) => s.name).join(' and ')}`);
    await Promise.all(systems.map((s) => s.start()));
    for (const s of systems) {
      const { leader, term } = await waitForAgreedLeader(s, 30_000);
      say(`${s.name}: leader ${leader} in term ${term}`);
    }

    if (phases.has('throughput')) {
      for (const [i, c] of concurrencies.entries()) {
        // Alternate which system goes first, so drifting background load hits both alike.
        const order = i % 2 === 0 ? systems : [...systems].reverse();
        for (const s of order) {
          for (const target of args.follower ? (['leader', 'follower'] as const) : (['leader'] as const)) {
            const { leader } = await waitForAgreedLeader(s, 30_000);
            const member = target === 'leader' ? leader : s.members.find((m) => m !== leader)!;
            const r = await runLoad(s, target, {
              member,
              concurrency: c,
              warmupMs: args.warmup * 1_000,
              durationMs: args.duration * 1_000,
              putTimeoutMs: 5_000,
              keysPerProposer: 1_000,
            });
            loads.push(r);
            say(
              `${s.name.padEnd(4)} c=${String(c).padStart(2)} at ${target.padEnd(8)} ${Math.round(r.commitsPerSec).toString().padStart(6)} puts/s` +
                `  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms  max ${r.maxMs.toFixed(1)} ms  errors ${r.errors}` +
                `  | CPU cores: servers ${r.cpu.serverCores.toFixed(2)}, client ${r.cpu.clientCores.toFixed(2)}, other ${r.cpu.otherCores.toFixed(2)}` +
                `  | ${Math.round(r.serverCpuUsPerCommit)} µs server CPU/put` +
                (r.termAfter !== r.termBefore ? `  | TERM CHANGED ${r.termBefore}→${r.termAfter}` : '') +
                (r.firstError ? `  | first error: ${r.firstError}` : ''),
            );
          }
        }
      }
    }

    if (phases.has('failover') && args.trials > 0) {
      const probe = { probeIntervalMs: 10, probeTimeoutMs: 1_000, pollIntervalMs: 10, giveUpMs: 20_000 };
      for (let trial = 1; trial <= args.trials; trial++) {
        const order = trial % 2 === 1 ? systems : [...systems].reverse();
        for (const s of order) {
          const t = await failoverTrial(s, trial, probe);
          trials.push(t);
          say(
            `${s.name.padEnd(4)} failover ${String(trial).padStart(2)}/${args.trials}: killed ${t.killed} (term ${t.termBefore});` +
              ` new leader ${t.newLeader ?? '?'} seen at ${t.newLeaderMs?.toFixed(0) ?? '—'} ms, first put at ${t.firstPutMs?.toFixed(0) ?? '—'} ms via ${t.firstPutVia ?? '—'}` +
              ` (${t.probes} probes, ${t.failedProbes} failed); caught up ${t.catchUpMs?.toFixed(0) ?? '—'} ms after restart` +
              (t.error ? `  | ERROR: ${t.error}` : ''),
          );
          if (t.error) await heal(s);
        }
      }
    }

    if (phases.has('stability') && args['stability-minutes'] > 0) {
      for (const s of systems) {
        say(`${s.name}: stability run, ${args['stability-minutes']} min at ${args['stability-concurrency']} proposers`);
        const r = await stabilityRun(s, args['stability-minutes'], args['stability-concurrency'], 250, say);
        stability.push(r);
        say(
          `${s.name}: ${r.leaderChanges} leader change(s), ${r.termChanges} term change(s) in ${r.minutes} min; ` +
            `${Math.round(r.load.commitsPerSec)} puts/s, p99 ${r.load.p99Ms.toFixed(2)} ms, ${r.load.errors} errors`,
        );
      }
    }
  } catch (error) {
    failure = errorText(error);
    say(`FAILED: ${failure}`);
  } finally {
    say('stopping every member');
    await stopAll();
  }

  const failover: Partial<Record<SystemName, FailoverSummary>> = {};
  for (const name of ['ours', 'etcd'] as const) {
    const mine = trials.filter((t) => t.system === name);
    if (mine.length) failover[name] = summarizeFailover(mine);
  }
  const rows = buildRows({ loads, failover, stability, concurrencies, etcdAvailable: etcdMissing === undefined });
  const loadAtEnd = os.loadavg().map((x) => Number(x.toFixed(2)));
  const command = `node dist/bench/raft/run.js ${hideBin(argv).join(' ')}`.trim();

  console.log('');
  console.log(`bench/raft — ${startedAt.toISOString()} — ${command}`);
  console.log(
    `machine: ${machineInfo['nproc']} cores (${machineInfo['cpuModel']}), ${machineInfo['memoryGiB']} GiB, node ${machineInfo['node']}, etcd ${machineInfo['etcd']}; ` +
      `load average ${(machineInfo['loadAverageAtStart'] as number[]).join(' ')} at start, ${loadAtEnd.join(' ')} at the end`,
  );
  if (etcdMissing) console.log(`*** etcd was NOT available (${etcdMissing}): ours ran alone; no comparison. ***`);
  console.log(formatTable(rows));
  if (failure) console.log(`*** the run FAILED before it finished: ${failure} ***`);

  const out = args.out ?? path.join(resultsDir, `${stamp}.json`);
  const json = JSON.stringify(
    {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      command,
      machine: { ...machineInfo, loadAverageAtEnd: loadAtEnd },
      settings: {
        durationS: args.duration,
        warmupS: args.warmup,
        concurrencies,
        valueBytes: args['value-bytes'],
        follower: args.follower,
        trials: args.trials,
        stabilityMinutes: args['stability-minutes'],
        systems: Object.fromEntries(systems.map((s) => [s.name, s.describe()])),
      },
      etcdMissing,
      failure,
      table: rows,
      loads,
      failover: { summary: failover, trials },
      stability,
      cpuProfiles: profDir,
    },
    (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value),
    2,
  );
  writeFileSync(out, json + '\n');
  if (!args.out) writeFileSync(path.join(resultsDir, 'latest.json'), json + '\n');
  say(`results: ${out}${profDir ? `; CPU profiles: ${profDir}` : ''}`);
  if (!args['keep-data']) rmSync(dataDir, { recursive: true, force: true });
  else say(`data kept in ${dataDir}`);
  process.exitCode = failure ? 1 : 0;
}

main(process.argv).catch((error: unknown) => {
  console.error(`bench/raft: ${errorText(error)}`);
  process.exit(1);
});

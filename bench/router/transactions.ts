// Benchmark (not a test), issue 7 §6: what strong consistency (reference
// transactions, DESIGN §10) costs a write, in one run. Two LocalClusters of the
// same shape (3 routers, 3 storage nodes, embedded PostgreSQL, git gateway)
// run side by side for the whole run, one with [transactions] enabled (ON: a
// write goes to all up-to-date replicas, they vote, all agreeing generations
// move in one CAS) and one with it disabled (OFF: the primary alone, then
// replication jobs). Both stay up throughout, so their idle cost hits both.
// Every cell is run on both, back to back, the order alternating by round, so
// drifting machine load hits ON and OFF alike:
//   commit c=N  UserCommitFiles of one small file, N writers over --repos repositories (one writer per repository)
//   push c=1    a real `git push` of a small commit through the cluster's git gateway
//   check       one write per repository, then RepositoryMetadata: did all three replicas move with it?
// After each cell the bench waits until every replica it wrote is level again
// (OFF: replication), so one cell's backlog never runs in the next one's window.
//
// Run: npm run build && node dist/bench/router/transactions.js --help
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { benchArgs } from './bench-args.js';
import os from 'node:os';
import path from 'node:path';
import { leaderIndex, startBenchCluster, waitFor } from './bench-cluster.js';
import { cpuWithChildrenMicros } from './bench-processes.js';
import { fixed, median, percentile } from './stats.js';
import { commitOneFile, metadataOf, replicasAtNewest, writeTarget, type WriteTarget } from './tx-writes.js';

type Mode = 'on' | 'off';
const MODES: readonly Mode[] = ['on', 'off'];
const LEVEL_TIMEOUT_MS = 120_000;
const MAX_LATENCIES_PER_CELL = 100_000;
const IDLE_SAMPLE_MS = 3_000;

const USAGE = `usage: node dist/bench/router/transactions.js [options]

  --rounds N          rounds; each runs every cell on ON and on OFF, order alternating (default 4)
  --seconds S         measured seconds per cell and mode (default 5)
  --concurrency LIST  UserCommitFiles writers, comma-separated (default 1,8)
  --repos N           repositories UserCommitFiles writes to (default: the largest concurrency)
  --no-push           leave out the git push cell
  --keep              keep the clusters' folders (logs) after the run
  --help              this text
`;

interface Options {
  rounds: number;
  seconds: number;
  concurrency: number[];
  repos: number;
  push: boolean;
  keep: boolean;
}

type CellName = `commit c=${number}` | 'push c=1';

interface WindowSample {
  mode: Mode;
  cell: CellName;
  round: number;
  ops: number;
  errors: number;
  firstError: string | undefined;
  seconds: number;
  opsPerSec: number;
  latenciesMs: number[];
  /** Repositories written in the window whose replicas were all level when it ended. */
  levelAtEnd: number;
  written: number;
  /** From the window's end until every replica it wrote was level again. */
  levelAfterSec: number;
  /** Routers + storage nodes, over window and levelling, per write. */
  cpuMsPerOp: number;
}

interface CheckSample {
  mode: Mode;
  round: number;
  /** Replicas on the newest generation right after each write's acknowledgement. */
  atNewest: number[];
}

function parseArgs(argv: string[]): Options {
  const args = benchArgs(argv, USAGE);
  const get = args.value;
  const concurrency = (get('--concurrency') ?? '1,8').split(',').map(Number);
  if (concurrency.some((c) => !Number.isSafeInteger(c) || c <= 0)) throw new Error('--concurrency needs positive integers');
  const repos = args.positive('--repos', Math.max(...concurrency));
  if (repos < Math.max(...concurrency)) throw new Error('--repos must be at least the largest concurrency: two writers on one branch would race');
  return {
    rounds: args.positive('--rounds', 4),
    seconds: Number(get('--seconds') ?? 5),
    concurrency,
    repos,
    push: !argv.includes('--no-push'),
    keep: argv.includes('--keep'),
  };
}

/** Routers and storage nodes with the git processes (and hooks) they ran. */
function clusterCpuMicros(target: WriteTarget): number {
  const { routers, storages } = target.bench.cluster;
  return [...routers, ...storages].reduce((sum, m) => sum + cpuWithChildrenMicros(m.process.pid as number), 0);
}

/** Cores a cluster uses with no writes (Raft ticks, health probes): taken off the per-write CPU. */
async function idleCores(target: WriteTarget): Promise<number> {
  const before = clusterCpuMicros(target);
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, IDLE_SAMPLE_MS));
  return (clusterCpuMicros(target) - before) / 1_000 / (performance.now() - started);
}

/** Runs `op` from each writer until the window closes; every op started in the window counts. */
async function timedWindow(seconds: number, writers: number, op: (writer: number) => Promise<void>): Promise<{ latenciesMs: number[]; errors: number; firstError: string | undefined; seconds: number }> {
  const latenciesMs: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const endsAt = started + seconds * 1_000;
  await Promise.all(
    Array.from({ length: writers }, async (_, writer) => {
      while (performance.now() < endsAt && latenciesMs.length < MAX_LATENCIES_PER_CELL) {
        const opStarted = performance.now();
        try {
          await op(writer);
          latenciesMs.push(performance.now() - opStarted);
        } catch (error) {
          errors++;
          firstError ??= String(error);
        }
      }
    }),
  );
  return { latenciesMs, errors, firstError, seconds: (performance.now() - started) / 1_000 };
}

async function levelCount(target: WriteTarget, relativePaths: readonly string[]): Promise<number> {
  const metas = await Promise.all(relativePaths.map((p) => metadataOf(target, p)));
  return metas.filter((m) => replicasAtNewest(m) === m.replicas.length && m.replicas.length === 3).length;
}

async function runWindow(target: WriteTarget, mode: Mode, cell: CellName, round: number, options: Options, idle: number): Promise<WindowSample> {
  const isPush = cell === 'push c=1';
  const writers = isPush ? 1 : Number(cell.slice('commit c='.length));
  const written = isPush ? [target.pusher.relativePath] : target.repositories;
  const cpuBefore = clusterCpuMicros(target);
  const cpuStarted = performance.now();
  const turns = new Array<number>(writers).fill(0);
  const pushMs: number[] = [];
  const window = await timedWindow(options.seconds, writers, async (writer) => {
    if (isPush) {
      await target.pusher.prepareCommit();
      const started = performance.now();
      await target.pusher.push();
      pushMs.push(performance.now() - started);
      return;
    }
    // Writer w owns the repositories r with r % writers === w, in turn.
    const owned = target.repositories.filter((_, r) => r % writers === writer);
    const turn = turns[writer]!++;
    await commitOneFile(target, owned[turn % owned.length]!);
  });
  const levelAtEnd = await levelCount(target, written);
  const windowEnded = performance.now();
  await waitFor(`every replica of ${cell} level (${mode})`, async () => ((await levelCount(target, written)) === written.length ? true : undefined), LEVEL_TIMEOUT_MS, 100);
  const levelAfterSec = (performance.now() - windowEnded) / 1_000;
  const ops = window.latenciesMs.length;
  // A push's latency is the push alone; making the local commit is not timed.
  const latenciesMs = isPush ? pushMs : window.latenciesMs;
  const busySec = isPush ? pushMs.reduce((s, v) => s + v, 0) / 1_000 : window.seconds;
  return {
    mode,
    cell,
    round,
    ops,
    errors: window.errors,
    firstError: window.firstError,
    seconds: window.seconds,
    opsPerSec: ops / busySec,
    latenciesMs,
    levelAtEnd,
    written: written.length,
    levelAfterSec,
    cpuMsPerOp: ((clusterCpuMicros(target) - cpuBefore) / 1_000 - idle * (performance.now() - cpuStarted)) / Math.max(ops, 1),
  };
}

/** One write per repository, each followed by the leader's view of its replicas. */
async function runCheck(target: WriteTarget, mode: Mode, round: number): Promise<CheckSample> {
  const atNewest: number[] = [];
  for (const relativePath of target.repositories) {
    await commitOneFile(target, relativePath);
    atNewest.push(replicasAtNewest(await metadataOf(target, relativePath)));
  }
  await waitFor(`every checked replica level (${mode})`, async () => ((await levelCount(target, target.repositories)) === target.repositories.length ? true : undefined), LEVEL_TIMEOUT_MS, 100);
  return { mode, round, atNewest };
}

async function startTarget(mode: Mode, options: Options, workDir: string): Promise<WriteTarget> {
  process.stderr.write(`starting the ${mode.toUpperCase()} cluster: 3 routers, 3 storage nodes, embedded PostgreSQL, git gateway\n`);
  const bench = await startBenchCluster({ routers: 3, storages: 3, keep: options.keep, routerConfigToml: `[transactions]\nenabled = ${mode === 'on'}\n` });
  try {
    const leader = await leaderIndex(bench);
    const dir = path.join(workDir, mode);
    await mkdir(dir, { recursive: true });
    return await writeTarget(bench, leader, options.repos, dir);
  } catch (error) {
    await bench.stop();
    throw error;
  }
}

/** Untimed: a few writes of each kind, so both clusters start warm (JIT, connections, page cache). */
async function warmUp(target: WriteTarget, options: Options): Promise<void> {
  for (const relativePath of target.repositories) await commitOneFile(target, relativePath);
  if (options.push) {
    for (let i = 0; i < 2; i++) {
      await target.pusher.prepareCommit();
      await target.pusher.push();
    }
  }
  await waitFor('warm-up writes level', async () => ((await levelCount(target, [...target.repositories, target.pusher.relativePath])) === target.repositories.length + 1 ? true : undefined), LEVEL_TIMEOUT_MS, 100);
}

function cellsOf(options: Options): CellName[] {
  const cells: CellName[] = options.concurrency.map((c) => `commit c=${c}` as const);
  if (options.push) cells.push('push c=1');
  return cells;
}

function ratio(on: number, off: number): string {
  return fixed(on / off, 2);
}

function report(windows: WindowSample[], checks: CheckSample[], options: Options, machine: string[]): void {
  for (const line of machine) console.log(line);
  console.log(`\n${options.rounds} rounds of ${options.seconds} s per cell and mode, ON and OFF back to back (order alternating); latencies pooled over rounds, rates are medians of rounds`);
  console.log('| metric | ON | OFF | ratio ON/OFF |');
  console.log('|---|--:|--:|--:|');
  for (const cell of cellsOf(options)) {
    const of = (mode: Mode): WindowSample[] => windows.filter((w) => w.cell === cell && w.mode === mode);
    const latencies = (mode: Mode): number[] => of(mode).flatMap((w) => w.latenciesMs).sort((a, b) => a - b);
    const rate = (mode: Mode): number => median(of(mode).map((w) => w.opsPerSec));
    const unit = cell === 'push c=1' ? 'pushes/s' : 'writes/s';
    const row = (metric: string, pick: (mode: Mode) => number, digits: number): void => {
      console.log(`| ${cell} ${metric} | ${fixed(pick('on'), digits)} | ${fixed(pick('off'), digits)} | ${ratio(pick('on'), pick('off'))} |`);
    };
    row(unit, rate, 1);
    row('p50 ms', (m) => percentile(latencies(m), 50), 1);
    row('p99 ms', (m) => percentile(latencies(m), 99), 1);
    row('cluster CPU ms/write (routers+nodes+their git, incl. replication, idle taken off)', (m) => median(of(m).map((w) => w.cpuMsPerOp)), 1);
    row('s until all replicas level after the window', (m) => median(of(m).map((w) => w.levelAfterSec)), 2);
    const levelAtEnd = (mode: Mode): string => `${of(mode).reduce((s, w) => s + w.levelAtEnd, 0)}/${of(mode).reduce((s, w) => s + w.written, 0)}`;
    const errors = (mode: Mode): string => String(of(mode).reduce((s, w) => s + w.errors, 0));
    console.log(`| ${cell} repositories level when the window closed | ${levelAtEnd('on')} | ${levelAtEnd('off')} | |`);
    console.log(`| ${cell} writes / errors | ${of('on').reduce((s, w) => s + w.ops, 0)} / ${errors('on')} | ${of('off').reduce((s, w) => s + w.ops, 0)} / ${errors('off')} | |`);
  }
  const together = (mode: Mode): { all: number; total: number; histogram: string } => {
    const counts = checks.filter((c) => c.mode === mode).flatMap((c) => c.atNewest);
    const histogram = [3, 2, 1].map((n) => `${n}: ${counts.filter((c) => c === n).length}`).join(', ');
    return { all: counts.filter((c) => c === 3).length, total: counts.length, histogram };
  };
  const on = together('on');
  const off = together('off');
  console.log(`| all 3 replicas on the new generation at the acknowledgement | ${on.all}/${on.total} (${fixed((100 * on.all) / on.total)} %) | ${off.all}/${off.total} (${fixed((100 * off.all) / off.total)} %) | |`);
  console.log(`\nreplicas on the newest generation right after each checked write — ON: ${on.histogram}; OFF: ${off.histogram}`);
  for (const cell of cellsOf(options)) {
    const perRound = Array.from({ length: options.rounds }, (_, round) => {
      const pick = (mode: Mode): WindowSample | undefined => windows.find((w) => w.cell === cell && w.mode === mode && w.round === round);
      return ratio(pick('on')?.opsPerSec ?? Number.NaN, pick('off')?.opsPerSec ?? Number.NaN);
    });
    const firstError = windows.find((w) => w.cell === cell && w.firstError !== undefined)?.firstError;
    console.log(`${cell}: per-round rate ratios ON/OFF ${perRound.join(', ')}${firstError === undefined ? '' : `; first error: ${firstError}`}`);
  }
  const compact = windows.map(({ latenciesMs, ...rest }) => ({ ...rest, p50Ms: percentile([...latenciesMs].sort((a, b) => a - b), 50) }));
  console.log(`\n${JSON.stringify({ bench: 'router-transactions', options, windows: compact, checks })}`);
}

function machineLine(when: string): string {
  return `${when}: ${os.cpus().length} cores (nproc), load average ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')}, ${new Date().toISOString()}`;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'bench-router-tx-'));
  const machine = [machineLine('start')];
  const targets = new Map<Mode, WriteTarget>();
  const windows: WindowSample[] = [];
  const checks: CheckSample[] = [];
  try {
    for (const mode of MODES) targets.set(mode, await startTarget(mode, options, workDir));
    for (const mode of MODES) await warmUp(targets.get(mode)!, options);
    const idle = new Map<Mode, number>();
    // Side by side: the same seconds of the machine for both.
    await Promise.all(MODES.map(async (mode) => idle.set(mode, await idleCores(targets.get(mode)!))));
    machine.push(`idle CPU of each cluster (routers + nodes, no writes; taken off the per-write CPU): ${MODES.map((m) => `${m.toUpperCase()} ${fixed(idle.get(m)!, 3)} cores`).join(', ')}`);
    for (let round = 0; round < options.rounds; round++) {
      const order: Mode[] = round % 2 === 0 ? ['on', 'off'] : ['off', 'on'];
      for (const cell of cellsOf(options)) {
        for (const mode of order) {
          const sample = await runWindow(targets.get(mode)!, mode, cell, round, options, idle.get(mode)!);
          windows.push(sample);
          process.stderr.write(`round ${round + 1} ${cell} ${mode.toUpperCase()}: ${fixed(sample.opsPerSec, 1)}/s, p50 ${fixed(percentile([...sample.latenciesMs].sort((a, b) => a - b), 50), 1)} ms, level after ${fixed(sample.levelAfterSec, 2)} s${sample.errors > 0 ? `, ${sample.errors} errors` : ''}\n`);
        }
      }
      for (const mode of order) checks.push(await runCheck(targets.get(mode)!, mode, round));
    }
    for (const mode of MODES) {
      const target = targets.get(mode)!;
      if ((await leaderIndex(target.bench)) !== target.leader) machine.push(`* the Raft leader of the ${mode.toUpperCase()} cluster changed during the run: its later writes went through a follower`);
    }
    machine.push(machineLine('end'));
  } finally {
    for (const target of targets.values()) {
      target.operations.close();
      await target.bench.stop();
    }
    await rm(workDir, { recursive: true, force: true });
  }
  report(windows, checks, options, machine);
}

await main();

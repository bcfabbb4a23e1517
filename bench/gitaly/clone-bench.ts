// Benchmark (not a test): clones a generated ~100 MB repository two ways in
// one run and prints MB/s for each and their ratio. Goal: ratio >= 0.7.
//   1. git clone through the HTTP gateway -> storage node (bin/git-gateway, bin/gitaly)
//   2. git clone over file:// (git's own transport, no network, no gRPC): the physical limit
//
// Run: npm run build && node dist/bench/gitaly/clone-bench.js [--mb 100] [--runs 3]
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { findProjectRoot } from '../../src/protocol/index.js';
import { generateRepo } from './generate-repo.js';

const execFileAsync = promisify(execFile);
const MB = 1_000_000;
const GIT_ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };

interface Options {
  megabytes: number;
  runs: number;
}

function parseArgs(argv: string[]): Options {
  const value = (flag: string, fallback: number): number => {
    const index = argv.indexOf(flag);
    const parsed = index >= 0 ? Number(argv[index + 1]) : fallback;
    if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`${flag} needs a positive number`);
    return parsed;
  };
  return { megabytes: value('--mb', 100), runs: value('--runs', 3) };
}

/** Starts a compiled bin/* program and resolves once it logs `readyMessage`. */
function startProgram(bin: string, args: string[], readyMessage: string): Promise<{ child: ChildProcess; log: Record<string, unknown> }> {
  const child = spawn(process.execPath, [path.join(findProjectRoot(), 'bin', bin), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`${bin} did not start`)), 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const line = buffered.split('\n').find((l) => l.includes(readyMessage));
      if (line === undefined) return;
      clearTimeout(timer);
      child.stdout?.resume();
      resolve({ child, log: JSON.parse(line) as Record<string, unknown> });
    });
    child.once('exit', (code) => reject(new Error(`${bin} exited with ${code}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function timedClone(url: string, into: string): Promise<number> {
  await rm(into, { recursive: true, force: true });
  const started = process.hrtime.bigint();
  await execFileAsync('git', ['clone', '--quiet', '--bare', '--no-local', url, into], { env: GIT_ENV, maxBuffer: 1024 * 1024 });
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** User plus system CPU seconds a process has used so far (Linux). */
async function cpuSeconds(pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0;
  const { readFile } = await import('node:fs/promises');
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100 Hz)
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const root = await mkdtemp(path.join(os.tmpdir(), 'gitaly-bench-'));
  const storage = path.join(root, 'storage');
  await mkdir(storage, { recursive: true });
  const processes: ChildProcess[] = [];
  try {
    process.stdout.write(`generating a ${options.megabytes} MB repository of random blobs...\n`);
    const repo = await generateRepo(path.join(storage, 'bench.git'), { totalBytes: options.megabytes * MB });
    const config = path.join(root, 'gitaly.toml');
    await writeFile(config, `listen_addr = "127.0.0.1:0"\n[logging]\nlevel = "info"\n[[storage]]\nname = "default"\npath = "${storage}"\n`);
    const node = await startProgram('gitaly', [config], 'storage node listening');
    processes.push(node.child);
    const gateway = await startProgram('git-gateway', ['--listen', '127.0.0.1:0', '--target', String(node.log['address']), '--storage', 'default'], 'git gateway listening');
    processes.push(gateway.child);
    const gatewayUrl = `http://${String(gateway.log['address'])}/bench.git`;
    const fileUrl = `file://${repo.path}`;
    const clone = path.join(root, 'clone.git');

    // One untimed clone each warms the page cache and both servers.
    await timedClone(fileUrl, clone);
    await timedClone(gatewayUrl, clone);
    const viaGateway: number[] = [];
    const viaFile: number[] = [];
    let nodeCpu = 0;
    let gatewayCpu = 0;
    for (let run = 0; run < options.runs; run++) {
      const [n0, g0] = [await cpuSeconds(node.child.pid), await cpuSeconds(gateway.child.pid)];
      viaGateway.push(await timedClone(gatewayUrl, clone));
      nodeCpu += (await cpuSeconds(node.child.pid)) - n0;
      gatewayCpu += (await cpuSeconds(gateway.child.pid)) - g0;
      viaFile.push(await timedClone(fileUrl, clone));
    }
    const megabytes = repo.totalBlobBytes / MB;
    const gatewayRate = megabytes / median(viaGateway);
    const fileRate = megabytes / median(viaFile);
    process.stdout.write(
      [
        `repository: ${megabytes.toFixed(0)} MB of incompressible blobs, ${options.runs} timed runs each (median)`,
        `gateway -> node : ${gatewayRate.toFixed(1)} MB/s  (${viaGateway.map((s) => s.toFixed(2)).join(', ')} s)`,
        `file://         : ${fileRate.toFixed(1)} MB/s  (${viaFile.map((s) => s.toFixed(2)).join(', ')} s)`,
        `ratio           : ${(gatewayRate / fileRate).toFixed(2)}  (goal >= 0.70)`,
        `CPU per gateway clone: storage node ${(nodeCpu / options.runs).toFixed(2)} s, gateway ${(gatewayCpu / options.runs).toFixed(2)} s (${os.cpus().length} cores, load ${os.loadavg()[0]?.toFixed(1)})`,
        '',
      ].join('\n'),
    );
  } finally {
    await Promise.all(processes.map(stop));
    await rm(root, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`clone-bench: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});

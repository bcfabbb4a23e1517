// Closed-loop put load: N proposers, each with one put in flight at a time.
import { cpuWindow, percentile, type CpuWindow } from './measure.js';
import { errorText, sleep, statuses, type BenchSystem } from './system.js';

export interface LoadOptions {
  readonly member: string;
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly putTimeoutMs: number;
  /** Keys cycle per proposer over this many, so the stores stay small. */
  readonly keysPerProposer: number;
}

export interface LoadResult {
  readonly system: string;
  readonly target: 'leader' | 'follower';
  readonly member: string;
  readonly concurrency: number;
  readonly durationMs: number;
  readonly commits: number;
  readonly commitsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly errors: number;
  readonly firstError?: string;
  readonly termBefore: number;
  readonly termAfter: number;
  readonly cpu: CpuWindow;
  /** Server CPU per commit (all three members), in microseconds. */
  readonly serverCpuUsPerCommit: number;
  readonly clientCpuUsPerCommit: number;
}

async function maxTerm(system: BenchSystem): Promise<number> {
  return Math.max(0, ...(await statuses(system)).map((s) => s.term));
}

export async function runLoad(system: BenchSystem, target: 'leader' | 'follower', options: LoadOptions): Promise<LoadResult> {
  const termBefore = await maxTerm(system);
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let commits = 0;
  const t0 = performance.now();
  const measureFrom = t0 + options.warmupMs;
  const end = measureFrom + options.durationMs;
  // The CPU window covers the measured interval only, whatever stragglers do after it.
  const cpuMeasured = sleep(options.warmupMs).then(() => {
    const close = cpuWindow(() => system.members.map((m) => system.pid(m)));
    return sleep(options.durationMs).then(close);
  });

  const proposer = async (p: number) => {
    for (let n = 0; ; n++) {
      const start = performance.now();
      if (start >= end) return;
      try {
        await system.put(options.member, `bench/${p}/${n % options.keysPerProposer}`, options.putTimeoutMs);
        const done = performance.now();
        if (start >= measureFrom && done <= end) {
          latencies.push(done - start);
          commits++;
        }
      } catch (error) {
        if (performance.now() >= measureFrom) {
          errors++;
          firstError ??= errorText(error);
        }
        await sleep(10);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, p) => proposer(p)));
  const cpu = await cpuMeasured;
  const termAfter = await maxTerm(system);
  const durationMs = options.durationMs;
  return {
    system: system.name,
    target,
    member: options.member,
    concurrency: options.concurrency,
    durationMs,
    commits,
    commitsPerSec: (commits * 1000) / durationMs,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: percentile(latencies, 100),
    errors,
    ...(firstError ? { firstError } : {}),
    termBefore,
    termAfter,
    cpu,
    serverCpuUsPerCommit: commits ? (cpu.serverCores * durationMs * 1000) / commits : Number.NaN,
    clientCpuUsPerCommit: commits ? (cpu.clientCores * durationMs * 1000) / commits : Number.NaN,
  };
}

// Percentiles and CPU accounting from /proc.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Nearest-rank percentile of unsorted samples; NaN when there are none. */
export function percentile(samples: ArrayLike<number>, p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

let clockTicks: number | undefined;
function clkTck(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** User+system CPU of a process in ms, or 0 once it is gone. */
export function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clkTck();
  } catch {
    return 0;
  }
}

/** Busy and total jiffies of the whole machine, from /proc/stat. */
export function machineCpu(): { busyMs: number; totalMs: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    return { busyMs: ((total - idle) * 1000) / clkTck(), totalMs: (total * 1000) / clkTck() };
  } catch {
    return { busyMs: 0, totalMs: 0 };
  }
}

export interface CpuWindow {
  /** CPU of the system's three members, in cores (1.0 = one core busy for the whole window). */
  readonly serverCores: number;
  /** CPU of this process (the load generator), in cores. */
  readonly clientCores: number;
  /** Everything else busy on the machine, in cores: other systems' members, other people's work. */
  readonly otherCores: number;
}

/** Starts a CPU window over the given pids; call the result to close it. */
export function cpuWindow(pids: () => (number | undefined)[]): () => CpuWindow {
  const startPids = pids();
  const server0 = startPids.map(processCpuMs);
  const client0 = process.cpuUsage();
  const machine0 = machineCpu();
  const t0 = performance.now();
  return () => {
    const wallMs = performance.now() - t0;
    const server = startPids.map(processCpuMs).reduce((sum, ms, i) => sum + Math.max(0, ms - server0[i]!), 0);
    const c = process.cpuUsage(client0);
    const client = (c.user + c.system) / 1000;
    const machine = machineCpu();
    const busy = machine.busyMs - machine0.busyMs;
    return {
      serverCores: server / wallMs,
      clientCores: client / wallMs,
      otherCores: Math.max(0, busy - server - client) / wallMs,
    };
  };
}

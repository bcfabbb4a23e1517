// The one table: metric, ours, etcd, ratio ours/etcd, the issue's target, met or not.
import type { FailoverTrial } from './failover.js';
import type { LoadResult } from './load.js';
import { percentile } from './measure.js';
import type { StabilityResult } from './stability.js';

export interface Row {
  readonly metric: string;
  readonly ours: number | undefined;
  readonly etcd: number | undefined;
  readonly unit: 'puts/s' | 'ms' | 'µs' | 'count' | 'cores';
  readonly target: string;
  /** undefined: no target, or it cannot be judged. */
  readonly met: boolean | undefined;
}

export interface FailoverSummary {
  readonly trials: number;
  readonly failed: number;
  readonly newLeaderP50: number;
  readonly newLeaderP99: number;
  readonly firstPutP50: number;
  readonly firstPutP99: number;
  readonly firstPutMax: number;
  readonly catchUpP50: number;
  readonly catchUpP99: number;
}

export function summarizeFailover(trials: readonly FailoverTrial[]): FailoverSummary {
  const pick = (f: (t: FailoverTrial) => number | undefined) => trials.map(f).filter((x): x is number => x !== undefined);
  const newLeader = pick((t) => t.newLeaderMs);
  const firstPut = pick((t) => t.firstPutMs);
  const catchUp = pick((t) => t.catchUpMs);
  return {
    trials: trials.length,
    failed: trials.filter((t) => t.error !== undefined).length,
    newLeaderP50: percentile(newLeader, 50),
    newLeaderP99: percentile(newLeader, 99),
    firstPutP50: percentile(firstPut, 50),
    firstPutP99: percentile(firstPut, 99),
    firstPutMax: percentile(firstPut, 100),
    catchUpP50: percentile(catchUp, 50),
    catchUpP99: percentile(catchUp, 99),
  };
}

const ETCD_TARGET = '≥ etcd';

export function buildRows(input: {
  loads: readonly LoadResult[];
  failover: Partial<Record<'ours' | 'etcd', FailoverSummary>>;
  stability: readonly StabilityResult[];
  concurrencies: readonly number[];
  etcdAvailable: boolean;
}): Row[] {
  const rows: Row[] = [];
  const find = (system: string, target: string, c: number) => input.loads.find((l) => l.system === system && l.target === target && l.concurrency === c);
  for (const target of ['leader', 'follower'] as const) {
    for (const c of input.concurrencies) {
      const ours = find('ours', target, c);
      const etcd = find('etcd', target, c);
      if (!ours && !etcd) continue;
      const at = `${c} proposer${c === 1 ? '' : 's'} at ${target === 'leader' ? 'the leader' : 'a follower'}`;
      let tput = '';
      let tputMet: boolean | undefined;
      if (target === 'leader') {
        const compare = ours && etcd ? ours.commitsPerSec >= etcd.commitsPerSec : undefined;
        tput = input.etcdAvailable ? ETCD_TARGET : '≥ etcd (no etcd)';
        tputMet = compare;
        if (c === 64) {
          tput += ' and ≥ 10,000';
          const absolute = ours ? ours.commitsPerSec >= 10_000 : undefined;
          // Missed if either part is missed; met only if both are known and met.
          tputMet = compare === false || absolute === false ? false : compare && absolute ? true : undefined;
        }
      }
      rows.push({ metric: `commits/s, ${at}`, ours: ours?.commitsPerSec, etcd: etcd?.commitsPerSec, unit: 'puts/s', target: tput, met: tputMet });
      const single = target === 'leader' && c === 1;
      rows.push({
        metric: `p50 latency, ${at}`,
        ours: ours?.p50Ms,
        etcd: etcd?.p50Ms,
        unit: 'ms',
        target: single ? '≤ 1 ms' : '',
        met: single && ours ? ours.p50Ms <= 1 : undefined,
      });
      rows.push({
        metric: `p99 latency, ${at}`,
        ours: ours?.p99Ms,
        etcd: etcd?.p99Ms,
        unit: 'ms',
        target: single ? '≤ 5 ms' : '',
        met: single && ours ? ours.p99Ms <= 5 : undefined,
      });
      if (target === 'leader') {
        rows.push({ metric: `server CPU per commit (3 members), ${at}`, ours: ours?.serverCpuUsPerCommit, etcd: etcd?.serverCpuUsPerCommit, unit: 'µs', target: '', met: undefined });
      }
    }
  }
  const fo = input.failover;
  if (fo.ours || fo.etcd) {
    const n = fo.ours?.trials ?? fo.etcd?.trials ?? 0;
    rows.push({ metric: `SIGKILL leader → survivor names a new leader, p50 (${n} trials)`, ours: fo.ours?.newLeaderP50, etcd: fo.etcd?.newLeaderP50, unit: 'ms', target: '', met: undefined });
    rows.push({
      metric: `SIGKILL leader → survivor names a new leader, p99 (${n} trials)`,
      ours: fo.ours?.newLeaderP99,
      etcd: fo.etcd?.newLeaderP99,
      unit: 'ms',
      target: '≤ 1,000 ms',
      met: fo.ours ? fo.ours.newLeaderP99 <= 1_000 : undefined,
    });
    rows.push({ metric: `SIGKILL leader → first put acknowledged by a survivor, p50`, ours: fo.ours?.firstPutP50, etcd: fo.etcd?.firstPutP50, unit: 'ms', target: '', met: undefined });
    rows.push({
      metric: `SIGKILL leader → first put acknowledged by a survivor, p99`,
      ours: fo.ours?.firstPutP99,
      etcd: fo.etcd?.firstPutP99,
      unit: 'ms',
      target: '≤ 1,000 ms',
      met: fo.ours ? fo.ours.firstPutP99 <= 1_000 : undefined,
    });
    rows.push({ metric: 'restart of the killed member → caught up, p50', ours: fo.ours?.catchUpP50, etcd: fo.etcd?.catchUpP50, unit: 'ms', target: '', met: undefined });
    rows.push({ metric: 'failover trials that failed', ours: fo.ours?.failed, etcd: fo.etcd?.failed, unit: 'count', target: '0', met: fo.ours ? fo.ours.failed === 0 : undefined });
  }
  for (const minutes of [...new Set(input.stability.map((s) => s.minutes))]) {
    const ours = input.stability.find((s) => s.system === 'ours' && s.minutes === minutes);
    const etcd = input.stability.find((s) => s.system === 'etcd' && s.minutes === minutes);
    const c = (ours ?? etcd)!.concurrency;
    rows.push({
      metric: `leader changes in ${minutes} min under load (${c} proposers), no faults`,
      ours: ours?.leaderChanges,
      etcd: etcd?.leaderChanges,
      unit: 'count',
      target: '0',
      met: ours ? ours.leaderChanges === 0 : undefined,
    });
    rows.push({ metric: `commits/s over the ${minutes}-min run`, ours: ours?.load.commitsPerSec, etcd: etcd?.load.commitsPerSec, unit: 'puts/s', target: '', met: undefined });
  }
  return rows;
}

function formatValue(v: number | undefined, unit: Row['unit']): string {
  if (v === undefined || Number.isNaN(v)) return 'n/a';
  switch (unit) {
    case 'puts/s':
      return Math.round(v).toLocaleString('en-US');
    case 'µs':
      return `${Math.round(v).toLocaleString('en-US')} µs`;
    case 'count':
      return String(v);
    case 'cores':
      return v.toFixed(2);
    case 'ms':
      return v >= 100 ? `${Math.round(v).toLocaleString('en-US')} ms` : `${v.toFixed(2)} ms`;
  }
}

/** A Markdown table (also readable as plain text), columns padded. */
export function formatTable(rows: readonly Row[]): string {
  const cells = rows.map((r) => [
    r.metric,
    formatValue(r.ours, r.unit),
    formatValue(r.etcd, r.unit),
    r.ours !== undefined && r.etcd !== undefined && r.etcd !== 0 && !Number.isNaN(r.ours) && !Number.isNaN(r.etcd) ? (r.ours / r.etcd).toFixed(2) : '—',
    r.target || '—',
    r.met === undefined ? (r.target ? 'n/a' : '') : r.met ? 'yes' : 'NO',
  ]);
  const header = ['metric', 'ours', 'etcd', 'ours/etcd', 'target', 'met'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((x, i) => (i === 0 || i >= 4 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 || i >= 4 ? `-${'-'.repeat(w)}-` : `-${'-'.repeat(w)}:`)).join('|')}|`;
  return [line(header), rule, ...cells.map(line)].join('\n');
}

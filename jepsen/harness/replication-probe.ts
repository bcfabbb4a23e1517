// What the replication queue did during a fault, from the routers' own
// metrics: gitaly_praefect_replication_job_outcomes_total by target storage
// and outcome, scraped from every router when the fault starts and again just
// before it stops. An attempt counted `failed` went back to the queue with a
// backoff (retry_at); `dead` ran out of attempts.

/** `${target}|${outcome}` -> attempts, summed over the routers that answered. */
export type OutcomeCounts = Record<string, number>;

export interface ReplicationProbe {
  /** The storage nodes the fault hit. */
  readonly faulted: readonly string[];
  readonly before: OutcomeCounts;
  readonly after: OutcomeCounts;
  /** Routers whose /metrics did not answer (their counts are missing from a snapshot). */
  readonly unreachable: readonly string[];
}

export interface OutcomeDelta {
  readonly completed: number;
  readonly failed: number;
  readonly dead: number;
}

const OUTCOMES_METRIC = 'gitaly_praefect_replication_job_outcomes_total';

/** The outcome counters of one /metrics page. */
export function parseReplicationOutcomes(metricsText: string): OutcomeCounts {
  const counts: OutcomeCounts = {};
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith(`${OUTCOMES_METRIC}{`)) continue;
    const close = line.lastIndexOf('}');
    const labels = Object.fromEntries([...line.slice(OUTCOMES_METRIC.length + 1, close).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const value = Number(line.slice(close + 1).trim());
    const key = `${labels['target_storage'] ?? ''}|${labels['outcome'] ?? ''}`;
    if (Number.isFinite(value)) counts[key] = (counts[key] ?? 0) + value;
  }
  return counts;
}

export function sumCounts(pages: readonly OutcomeCounts[]): OutcomeCounts {
  const total: OutcomeCounts = {};
  for (const page of pages) for (const [key, value] of Object.entries(page)) total[key] = (total[key] ?? 0) + value;
  return total;
}

/** Attempts toward these targets between two snapshots. */
export function outcomeDelta(before: OutcomeCounts, after: OutcomeCounts, targets: readonly string[]): OutcomeDelta {
  const delta = (outcome: string): number => targets.reduce((sum, t) => sum + (after[`${t}|${outcome}`] ?? 0) - (before[`${t}|${outcome}`] ?? 0), 0);
  return { completed: delta('completed'), failed: delta('failed'), dead: delta('dead') };
}

/** Scrapes every router's /metrics (host:port), each bounded by timeoutMs. */
export async function scrapeReplicationOutcomes(metricsAddresses: ReadonlyMap<string, string>, timeoutMs = 2_000): Promise<{ counts: OutcomeCounts; unreachable: string[] }> {
  const unreachable: string[] = [];
  const pages = await Promise.all(
    [...metricsAddresses].map(async ([router, address]) => {
      try {
        const response = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
        return parseReplicationOutcomes(await response.text());
      } catch {
        unreachable.push(router);
        return {};
      }
    }),
  );
  return { counts: sumCounts(pages), unreachable };
}

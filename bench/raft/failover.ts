// Leader failover: SIGKILL the leader, time the first successful put through
// another member (and the first time a survivor names a new leader), restart
// the killed member and time until it has applied everything committed.
import { errorText, putUntilOk, sleep, statuses, waitForAgreedLeader, type BenchSystem } from './system.js';

export interface FailoverOptions {
  /** A new put attempt is fired this often, alternating between the survivors. */
  readonly probeIntervalMs: number;
  /** Deadline of each probe put; attempts overlap, so this does not limit resolution. */
  readonly probeTimeoutMs: number;
  /** Survivors' Status is polled this often to see the new leader. */
  readonly pollIntervalMs: number;
  /** Give up on a trial after this long without a successful put. */
  readonly giveUpMs: number;
}

export interface FailoverTrial {
  readonly system: string;
  readonly trial: number;
  readonly killed: string;
  readonly termBefore: number;
  /** SIGKILL to the first Status of a survivor naming a leader other than the killed one. */
  readonly newLeaderMs: number | undefined;
  readonly newLeader: string | undefined;
  /** SIGKILL to the first acknowledged put through a survivor. */
  readonly firstPutMs: number | undefined;
  readonly firstPutVia: string | undefined;
  /** Restart to the restarted member having applied the leader's commit index at restart time. */
  readonly catchUpMs: number | undefined;
  readonly probes: number;
  readonly failedProbes: number;
  readonly error?: string;
}

export async function failoverTrial(system: BenchSystem, trial: number, options: FailoverOptions): Promise<FailoverTrial> {
  const before = await waitForAgreedLeader(system, 30_000);
  // Every channel connected and every path (including forwarding at followers) working.
  for (const m of system.members) await putUntilOk(system, m, `failover/warm/${m}`, 10_000);
  const killed = before.leader;
  const survivors = system.members.filter((m) => m !== killed);

  let newLeaderMs: number | undefined;
  let newLeader: string | undefined;
  let firstPutMs: number | undefined;
  let firstPutVia: string | undefined;
  let probes = 0;
  let failedProbes = 0;
  const inflight: Promise<void>[] = [];

  const t0 = performance.now();
  const killing = system.kill(killed);
  const giveUpAt = t0 + options.giveUpMs;

  const probing = (async () => {
    for (let k = 0; firstPutMs === undefined && performance.now() < giveUpAt; k++) {
      const via = survivors[k % survivors.length]!;
      probes++;
      inflight.push(
        system.put(via, `failover/${trial}/${k}`, options.probeTimeoutMs).then(
          () => {
            const at = performance.now() - t0;
            if (firstPutMs === undefined || at < firstPutMs) {
              firstPutMs = at;
              firstPutVia = via;
            }
          },
          () => {
            failedProbes++;
          },
        ),
      );
      await sleep(options.probeIntervalMs);
    }
  })();
  const polling = (async () => {
    while (newLeaderMs === undefined && performance.now() < giveUpAt) {
      await Promise.all(
        survivors.map(async (m) => {
          const s = await system.status(m, 250).catch(() => undefined);
          if (s?.leader !== undefined && s.leader !== killed && newLeaderMs === undefined) {
            newLeaderMs = performance.now() - t0;
            newLeader = s.leader;
          }
        }),
      );
      if (newLeaderMs === undefined) await sleep(options.pollIntervalMs);
    }
  })();
  await Promise.all([probing, polling, killing]);
  await Promise.allSettled(inflight);

  const base = { system: system.name, trial, killed, termBefore: before.term, newLeaderMs, newLeader, firstPutMs, firstPutVia, probes, failedProbes };
  if (firstPutMs === undefined) {
    system.restart(killed);
    return { ...base, catchUpMs: undefined, error: `no put succeeded within ${options.giveUpMs} ms of the kill` };
  }

  // Restart and wait until the killed member has applied everything committed so far.
  let catchUpMs: number | undefined;
  let error: string | undefined;
  try {
    const leaderNow = await waitForAgreedLeader(system, 10_000);
    const target = (await system.status(leaderNow.leader, 1_000)).commit;
    const t1 = performance.now();
    system.restart(killed);
    const until = t1 + 60_000;
    while (performance.now() < until) {
      const s = await system.status(killed, 500).catch(() => undefined);
      if (s && s.applied >= target) {
        catchUpMs = performance.now() - t1;
        break;
      }
      await sleep(10);
    }
    if (catchUpMs === undefined) error = `${killed} did not catch up to index ${target} within 60 s`;
    // All three agree again before the next trial.
    await waitForAgreedLeader(system, 30_000);
  } catch (e) {
    error = errorText(e);
  }
  return { ...base, catchUpMs, ...(error ? { error } : {}) };
}

/** Makes sure every member runs and the group agrees on a leader (after a failed trial, say). */
export async function heal(system: BenchSystem): Promise<void> {
  for (const m of system.members) if (!system.isRunning(m)) system.restart(m);
  await waitForAgreedLeader(system, 60_000);
  const seen = await statuses(system);
  if (seen.length !== system.members.length) throw new Error(`${system.name}: only ${seen.length} members answer after healing`);
}

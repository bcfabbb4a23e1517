// "No leader change in N minutes under load without faults": closed-loop load
// at the leader while every member's Status is polled; counts leader changes
// and term changes.
import { runLoad, type LoadResult } from './load.js';
import { sleep, statuses, waitForAgreedLeader, type BenchSystem } from './system.js';

export interface StabilityResult {
  readonly system: string;
  readonly minutes: number;
  readonly concurrency: number;
  readonly leaderAtStart: string;
  readonly termAtStart: number;
  readonly termAtEnd: number;
  /** Times the leader named by the members changed (a poll seeing no leader counts as a change). */
  readonly leaderChanges: number;
  readonly termChanges: number;
  readonly leadersSeen: string[];
  readonly polls: number;
  readonly load: LoadResult;
}

export async function stabilityRun(
  system: BenchSystem,
  minutes: number,
  concurrency: number,
  pollMs: number,
  say: (line: string) => void,
): Promise<StabilityResult> {
  const start = await waitForAgreedLeader(system, 30_000);
  let leader: string | undefined = start.leader;
  let term = start.term;
  let leaderChanges = 0;
  let termChanges = 0;
  let polls = 0;
  const leadersSeen = new Set([start.leader]);
  let done = false;
  const durationMs = minutes * 60_000;
  const poller = (async () => {
    const began = performance.now();
    let nextReport = began + 60_000;
    while (!done) {
      const seen = await statuses(system, 1_000);
      polls++;
      const maxTerm = Math.max(term, ...seen.map((s) => s.term));
      if (maxTerm !== term) {
        termChanges += 1;
        term = maxTerm;
      }
      // The leader as named by the members in the newest term.
      const named = seen.filter((s) => s.term === maxTerm).map((s) => s.leader)[0];
      if (named !== leader) {
        leaderChanges++;
        say(`${system.name}: leader ${leader ?? 'none'} → ${named ?? 'none'} (term ${maxTerm})`);
        leader = named;
        if (named) leadersSeen.add(named);
      }
      if (performance.now() > nextReport) {
        say(`${system.name}: ${Math.round((performance.now() - began) / 60_000)} min: ${leaderChanges} leader change(s), ${termChanges} term change(s)`);
        nextReport += 60_000;
      }
      await sleep(pollMs);
    }
  })();
  const load = await runLoad(system, 'leader', {
    member: start.leader,
    concurrency,
    warmupMs: 0,
    durationMs,
    putTimeoutMs: 5_000,
    keysPerProposer: 1_000,
  });
  done = true;
  await poller;
  return {
    system: system.name,
    minutes,
    concurrency,
    leaderAtStart: start.leader,
    termAtStart: start.term,
    termAtEnd: term,
    leaderChanges,
    termChanges,
    leadersSeen: [...leadersSeen],
    polls,
    load,
  };
}

// What the benchmark needs of a 3-member Raft-replicated key/value store,
// implemented once for ours (src/kv-demo) and once for etcd.

export type SystemName = 'ours' | 'etcd';

export interface MemberStatus {
  readonly member: string;
  /** The member this one believes leads, or undefined when it knows none. */
  readonly leader: string | undefined;
  readonly term: number;
  readonly commit: number;
  readonly applied: number;
}

export interface BenchSystem {
  readonly name: SystemName;
  /** Member names, e.g. ['1', '2', '3'] or ['m1', 'm2', 'm3']. */
  readonly members: readonly string[];
  start(): Promise<void>;
  /** SIGTERM every member and wait for them to exit (SIGKILL after a grace period). */
  stop(): Promise<void>;
  status(member: string, timeoutMs: number): Promise<MemberStatus>;
  /** One put of the configured value size; resolves when the system acknowledges it. */
  put(member: string, key: string, timeoutMs: number): Promise<void>;
  kill(member: string): Promise<void>;
  restart(member: string): void;
  isRunning(member: string): boolean;
  pid(member: string): number | undefined;
  /** Describes the effective settings (for the report). */
  describe(): Record<string, unknown>;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Statuses of every running member that answers within the timeout. */
export async function statuses(system: BenchSystem, timeoutMs = 500): Promise<MemberStatus[]> {
  const all = await Promise.all(
    system.members.filter((m) => system.isRunning(m)).map((m) => system.status(m, timeoutMs).catch(() => undefined)),
  );
  return all.filter((s): s is MemberStatus => s !== undefined);
}

/** Waits until every running member answers and names the same running leader. */
export async function waitForAgreedLeader(system: BenchSystem, deadlineMs: number): Promise<{ leader: string; term: number }> {
  const until = performance.now() + deadlineMs;
  let last = 'no member answered';
  while (performance.now() < until) {
    const running = system.members.filter((m) => system.isRunning(m));
    const seen = await statuses(system);
    const leader = seen[0]?.leader;
    if (seen.length === running.length && leader !== undefined && running.includes(leader) && seen.every((s) => s.leader === leader)) {
      return { leader, term: Math.max(...seen.map((s) => s.term)) };
    }
    last = seen.map((s) => `${s.member}→${s.leader ?? '?'}@${s.term}`).join(' ') || last;
    await sleep(20);
  }
  throw new Error(`${system.name}: no agreed leader within ${deadlineMs} ms (last seen: ${last})`);
}

/** Retries a put through `member` until one succeeds: connects the client channel and proves the path works. */
export async function putUntilOk(system: BenchSystem, member: string, key: string, deadlineMs: number): Promise<void> {
  const until = performance.now() + deadlineMs;
  let lastError: unknown;
  while (performance.now() < until) {
    try {
      await system.put(member, key, Math.max(100, Math.min(2_000, until - performance.now())));
      return;
    } catch (error) {
      lastError = error;
      await sleep(20);
    }
  }
  throw new Error(`${system.name}: no put through ${member} succeeded within ${deadlineMs} ms: ${errorText(lastError)}`);
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What one router said about its Raft state when polled. */
export interface RaftSample {
  router: string;
  term: number;
  /** The leader the router knows for `term`, or null. */
  leader: string | null;
  commitIndex: number;
  appliedIndex: number;
  /** A digest of the state machine at `digestIndex` (or `appliedIndex` when absent), when the router exposes one. */
  appliedDigest?: string;
  /**
   * The applied index the digest was taken at. A router reads its digest and
   * its status one after the other, so this may lag `appliedIndex`.
   */
  digestIndex?: number;
  time: number;
  /**
   * Which run of the router process took the sample. The commit index is
   * volatile in Raft, so it may fall across a restart: the check compares
   * only samples of one boot. Omit when the router never restarts.
   */
  boot?: string | number;
}

export type RaftViolation =
  | { kind: 'two-leaders'; term: number; leaders: string[]; samples: RaftSample[] }
  | { kind: 'commit-fell'; router: string; before: RaftSample; after: RaftSample }
  /** `appliedIndex`: the index the differing digests were taken at (the samples' digestIndex, or appliedIndex). */
  | { kind: 'digest-diverged'; appliedIndex: number; samples: RaftSample[] };

export interface RaftInvariantsResult {
  valid: boolean;
  violations: RaftViolation[];
  /** Indexes at which digests of two or more routers (or boots) were compared: how much the digest check saw. */
  comparedDigestIndexes: number;
}

/**
 * Raft's safety as seen from outside: at most one leader per term (Election
 * Safety), each router's commit index never falls within one boot, and state
 * machines that applied the same index have the same digest (State Machine
 * Safety). Samples of one router are taken in time order.
 */
export function raftInvariants(samples: readonly RaftSample[]): RaftInvariantsResult {
  const digests = digestDiverged(samples);
  const violations: RaftViolation[] = [...twoLeaders(samples), ...commitFell(samples), ...digests.violations];
  return { valid: violations.length === 0, violations, comparedDigestIndexes: digests.compared };
}

function twoLeaders(samples: readonly RaftSample[]): RaftViolation[] {
  const byTerm = groupBy(
    samples.filter((s) => s.leader !== null),
    (s) => s.term,
  );
  const violations: RaftViolation[] = [];
  for (const [term, claims] of byTerm) {
    const leaders = [...new Set(claims.map((s) => s.leader!))].sort();
    if (leaders.length > 1) violations.push({ kind: 'two-leaders', term, leaders, samples: firstPerLeader(claims) });
  }
  return violations;
}

function firstPerLeader(claims: readonly RaftSample[]): RaftSample[] {
  const first = new Map<string, RaftSample>();
  for (const s of claims) if (!first.has(s.leader!)) first.set(s.leader!, s);
  return [...first.values()];
}

function commitFell(samples: readonly RaftSample[]): RaftViolation[] {
  const violations: RaftViolation[] = [];
  for (const [router, own] of groupBy(samples, (s) => s.router)) {
    const ordered = [...own].sort((a, b) => a.time - b.time);
    for (let i = 1; i < ordered.length; i++) {
      const before = ordered[i - 1]!;
      const after = ordered[i]!;
      if (before.boot === after.boot && after.commitIndex < before.commitIndex) violations.push({ kind: 'commit-fell', router, before, after });
    }
  }
  return violations;
}

function digestDiverged(samples: readonly RaftSample[]): { violations: RaftViolation[]; compared: number } {
  const violations: RaftViolation[] = [];
  let compared = 0;
  const byIndex = groupBy(
    samples.filter((s) => s.appliedDigest !== undefined),
    (s) => s.digestIndex ?? s.appliedIndex,
  );
  for (const [appliedIndex, same] of byIndex) {
    if (new Set(same.map((s) => `${s.router}\u0000${String(s.boot)}`)).size > 1) compared++;
    const firstPerDigest = new Map<string, RaftSample>();
    for (const s of same) if (!firstPerDigest.has(s.appliedDigest!)) firstPerDigest.set(s.appliedDigest!, s);
    if (firstPerDigest.size > 1) violations.push({ kind: 'digest-diverged', appliedIndex, samples: [...firstPerDigest.values()] });
  }
  return { violations, compared };
}

function groupBy<T, K>(items: readonly T[], keyOf: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [item]);
    else group.push(item);
  }
  return groups;
}

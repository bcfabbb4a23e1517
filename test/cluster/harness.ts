import {
  applyCommand,
  checkStateInvariants,
  ClusterQueries,
  ClusterState,
  decodeCommand,
  encodeCommand,
  type ClusterCommand,
  type CommandBody,
  type CommandType,
  type ResultByType,
} from '../../src/cluster/index.js';

type Body<T extends CommandType> = CommandBody<Extract<ClusterCommand, { type: T }>>;

/** Generations per repository per storage, to check that none ever decreases. */
export type GenerationLedger = Map<number, Map<string, number>>;

/**
 * Applies commands to a fresh state the way a replica does (through the
 * codec), with a controllable proposer clock, and asserts the DESIGN §5
 * invariants after every apply.
 */
export class Harness {
  readonly state = new ClusterState();
  readonly view = new ClusterQueries(this.state);
  nowMs = 1_700_000_000_000;
  private readonly ledger: GenerationLedger = new Map();

  run<T extends CommandType>(router: string, body: Body<T> & { type: T }, stampMs = this.nowMs): ResultByType[T] {
    const command = decodeCommand(encodeCommand({ ...body, router, stampMs } as ClusterCommand));
    const result = applyCommand(this.state, command) as ResultByType[T];
    checkAfterApply(this.state, this.ledger);
    return result;
  }

  advance(ms: number): void {
    this.nowMs += ms;
  }

  /** Every router reports every storage of `virtualStorage` (healthy unless listed in `down`). */
  report(routers: readonly string[], storages: readonly string[], down: readonly string[] = [], virtualStorage = 'default'): void {
    for (const router of routers) {
      this.run(router, { type: 'health-update', reports: storages.map((storage) => ({ virtualStorage, storage, healthy: !down.includes(storage) })) });
    }
  }

  create(repositoryId: number, primary: string, assigned: readonly string[], updatedSecondaries: readonly string[] = [], relativePath = `repo-${repositoryId}.git`): void {
    const result = this.run('r1', {
      type: 'create-repository',
      repositoryId,
      virtualStorage: 'default',
      relativePath,
      replicaPath: `@cluster/custom/${repositoryId}`,
      primary,
      assigned,
      updatedSecondaries,
    });
    if (result.status !== 'ok') throw new Error(`create ${repositoryId}: ${JSON.stringify(result)}`);
  }

  generations(repositoryId: number): Readonly<Record<string, number>> {
    return this.view.repository(repositoryId)?.generations ?? {};
  }
}

/** The invariants after one apply: state-wide ones, and no generation below what it was. */
export function checkAfterApply(state: ClusterState, ledger: GenerationLedger): void {
  checkStateInvariants(state);
  const view = new ClusterQueries(state);
  for (const id of [...ledger.keys()]) if (!state.repository(id)) ledger.delete(id);
  for (const id of state.repositories.keys()) {
    const now = view.repository(id)!.generations;
    const before = ledger.get(id) ?? new Map<string, number>();
    for (const [storage, generation] of before) {
      const current = now[storage];
      if (current === undefined || current < generation) throw new Error(`repository ${id}: generation of ${storage} fell from ${generation} to ${current}`);
    }
    ledger.set(id, new Map(Object.entries(now)));
  }
}

/** The whole state as plain data with names resolved, for comparing two states. */
export function dumpState(state: ClusterState): unknown {
  const view = new ClusterQueries(state);
  const repositories = [...state.repositories.keys()].sort((a, b) => a - b).map((id) => ({ ...view.repository(id), primaryBase: state.repository(id)!.primaryBase }));
  const routers = [...state.routers].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, r]) => ({
    name,
    latestStampMs: r.latestStampMs,
    clockOffsetMs: r.clockOffsetMs,
    lastSeenMs: r.lastSeenMs,
    views: view.routers().find((x) => x.router === name)!.views,
  }));
  return { clusterTimeMs: state.clusterTimeMs, settings: state.settings, storages: state.storages.toArray(), virtualStorages: state.virtualStorages.toArray(), routers, repositories };
}

/** A create-repository body with two assigned storages (g1, g2), for state machine tests. */
export const createRepositoryBody = (repositoryId: number, primary = 'g1'): CommandBody => ({
  type: 'create-repository',
  repositoryId,
  virtualStorage: 'default',
  relativePath: `r/${repositoryId}.git`,
  replicaPath: `x/${repositoryId}`,
  primary,
  assigned: ['g1', 'g2'],
  updatedSecondaries: [],
});

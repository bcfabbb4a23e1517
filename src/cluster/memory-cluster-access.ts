import type { AppliedCommand } from '../raft/state-machine.js';
import type { ClusterAccess } from './cluster-access.js';
import type { ClusterView } from './cluster-view.js';
import type { ResultByType } from './command-results.js';
import type { CommandBody } from './commands.js';
import { encodeCommand } from './command-codec.js';
import { MemoryClusterStateMachine } from './memory-cluster-state-machine.js';

/**
 * One replicated state shared by several in-process "routers", applied at
 * once: what a Raft group looks like when every proposal commits. Routers
 * made from the same log see each other's writes immediately, so fresh() has
 * nothing to wait for. Proposals still go through encode and apply, exactly
 * as over Raft.
 */
export class MemoryClusterLog {
  readonly stateMachine = new MemoryClusterStateMachine();
  private index = 0;
  private leader: string | null = null;
  /** When set, proposals reject with it (a lost quorum). */
  unavailable: Error | null = null;

  constructor(private readonly clockMs: () => number) {}

  access(routerName: string): ClusterAccess {
    this.leader ??= routerName;
    return new MemoryClusterAccess(this, routerName);
  }

  /** Makes `routerName` the one whose isLeader() is true. */
  setLeader(routerName: string | null): void {
    this.leader = routerName;
  }

  isLeader(routerName: string): boolean {
    return this.leader === routerName;
  }

  async propose<B extends CommandBody>(router: string, body: B): Promise<ResultByType[B['type']]> {
    if (this.unavailable !== null) throw this.unavailable;
    const payload = encodeCommand({ ...body, router, stampMs: this.clockMs() } as Parameters<typeof encodeCommand>[0]);
    const entry: AppliedCommand = { index: ++this.index, term: 1, payload };
    const [result] = await this.stateMachine.apply([entry]);
    return result as ResultByType[B['type']];
  }
}

class MemoryClusterAccess implements ClusterAccess {
  readonly view: ClusterView;

  constructor(
    private readonly log: MemoryClusterLog,
    readonly routerName: string,
  ) {
    this.view = log.stateMachine.view;
  }

  async fresh(): Promise<void> {
    if (this.log.unavailable !== null) throw this.log.unavailable;
  }

  propose<B extends CommandBody>(body: B): Promise<ResultByType[B['type']]> {
    return this.log.propose(this.routerName, body);
  }

  isLeader(): boolean {
    return this.log.isLeader(this.routerName);
  }
}

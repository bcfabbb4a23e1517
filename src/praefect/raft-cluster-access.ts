import { encodeCommand, type ClusterAccess, type ClusterCommand, type ClusterView, type CommandBody, type ResultByType } from '../cluster/index.js';
import type { RaftDriver } from '../raft/index.js';

/** The cluster state over Raft: proposals stamped with this router's wall clock, freshness by ReadIndex. */
export class RaftClusterAccess implements ClusterAccess {
  constructor(
    readonly routerName: string,
    readonly view: ClusterView,
    private readonly driver: RaftDriver,
    private readonly clockMs: () => number = Date.now,
  ) {}

  async fresh(): Promise<void> {
    await this.driver.linearizableRead();
  }

  async propose<B extends CommandBody>(body: B): Promise<ResultByType[B['type']]> {
    const command = { ...body, router: this.routerName, stampMs: this.clockMs() } as ClusterCommand;
    const result = (await this.driver.propose(encodeCommand(command))) as ResultByType[B['type']] | { status: 'invalid'; message: string };
    if (result.status === 'invalid') throw new TypeError(`the cluster refused a ${body.type} command: ${(result as { message: string }).message}`);
    return result as ResultByType[B['type']];
  }

  isLeader(): boolean {
    return this.driver.status().role === 'leader';
  }
}

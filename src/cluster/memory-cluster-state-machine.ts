import type { Snapshot } from '../raft/core/types.js';
import type { AppliedCommand } from '../raft/state-machine.js';
import { applyEntries } from './apply-entries.js';
import { ClusterQueries } from './cluster-queries.js';
import type { ClusterStateMachine } from './cluster-state-machine.js';
import { ClusterState } from './cluster-state.js';
import type { ClusterView } from './cluster-view.js';
import { clusterInvariant } from './errors.js';
import { checkStateInvariants } from './invariants.js';
import { decodeSnapshot, encodeSnapshot } from './snapshot-codec.js';
import { stateDigest, type StateDigest } from './state-digest.js';

/** The cluster state machine without persistence: same behaviour as the LevelDB one, for tests and simulations. */
export class MemoryClusterStateMachine implements ClusterStateMachine {
  readonly state = new ClusterState();
  readonly view: ClusterView = new ClusterQueries(this.state, () => this.stateDigest());
  private applied = 0;

  appliedIndex(): number {
    return this.applied;
  }

  async apply(commands: readonly AppliedCommand[]): Promise<unknown[]> {
    const results = applyEntries(this.state, commands, this.applied);
    this.state.drainDirty();
    this.applied = commands.at(-1)?.index ?? this.applied;
    return results;
  }

  async stateDigest(): Promise<StateDigest> {
    return { index: this.applied, digest: stateDigest(this.state) };
  }

  async snapshot(): Promise<{ index: number; data: Uint8Array }> {
    return { index: this.applied, data: encodeSnapshot(this.state, this.applied) };
  }

  async restore(snapshot: Snapshot): Promise<void> {
    const { index, state } = decodeSnapshot(snapshot.data);
    clusterInvariant(index === snapshot.meta.index, () => `snapshot data is at ${index}, its meta says ${snapshot.meta.index}`);
    checkStateInvariants(state);
    this.state.adopt(state);
    this.applied = index;
  }
}

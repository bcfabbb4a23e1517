import type { StateMachine } from '../raft/state-machine.js';
import type { ClusterState } from './cluster-state.js';
import type { ClusterView } from './cluster-view.js';

/** A Raft state machine holding the cluster state; the LevelDB one and the in-memory one for tests. */
export interface ClusterStateMachine extends StateMachine {
  /** What the router reads; stays valid across restores. */
  readonly view: ClusterView;
  /** The state itself, for invariant checks and tooling. Only apply() may change it. */
  readonly state: ClusterState;
}

import type { StateMachine } from '../raft/state-machine.js';
import type { ClusterState } from './cluster-state.js';
import type { ClusterView } from './cluster-view.js';
import type { StateDigest } from './state-digest.js';

/** A Raft state machine holding the cluster state; the LevelDB one and the in-memory one for tests. */
export interface ClusterStateMachine extends StateMachine {
  /** What the router reads; stays valid across restores. */
  readonly view: ClusterView;
  /** The state itself, for invariant checks and tooling. Only apply() may change it. */
  readonly state: ClusterState;
  /** The digest of the state with the applied index it belongs to, both read at one point between applies. O(state). */
  stateDigest(): Promise<StateDigest>;
}

import type { AppliedCommand } from '../raft/state-machine.js';
import { applyPayload } from './apply-command.js';
import type { ClusterState } from './cluster-state.js';
import { clusterInvariant } from './errors.js';

/**
 * Applies a batch of committed entries that must continue exactly at
 * appliedIndex + 1: the driver never re-applies or skips one, so anything
 * else is a bug and is refused before the state changes.
 */
export function applyEntries(state: ClusterState, commands: readonly AppliedCommand[], appliedIndex: number): unknown[] {
  commands.forEach((command, k) => {
    const expected = appliedIndex + 1 + k;
    clusterInvariant(command.index === expected, () => `apply of entry ${command.index}, expected ${expected} (applied index ${appliedIndex})`);
  });
  return commands.map((command) => applyPayload(state, command.payload));
}

import type { Snapshot } from './core/types.js';

/** A committed log entry as the state machine sees it. */
export interface AppliedCommand {
  readonly index: number;
  readonly term: number;
  /** The proposer's bytes; undefined for entries that only advance the applied index (no-ops, configuration changes). */
  readonly payload: Uint8Array | undefined;
}

/**
 * The replicated state machine the driver applies committed entries to.
 * `apply` must store the applied index atomically with the data it changes,
 * so that after a crash no entry is applied twice or skipped.
 */
export interface StateMachine {
  /** The index of the last applied entry, as durably stored. */
  appliedIndex(): number;
  /** Apply in order; returns one result per command (resolving its proposer's promise). */
  apply(commands: readonly AppliedCommand[]): Promise<unknown[]>;
  /** A point-in-time image of the state at appliedIndex(). */
  snapshot(): Promise<{ index: number; data: Uint8Array }>;
  /** Replace the whole state with a snapshot's. */
  restore(snapshot: Snapshot): Promise<void>;
}

/**
 * The commands of the replicated cluster state, as proposers build them.
 * Every command names the router that proposed it and carries that router's
 * wall-clock stamp; apply turns stamps into a monotonic cluster time (see
 * cluster-time.ts) and never reads a clock itself.
 *
 * Storages are named within a virtual storage, as upstream Praefect does: the
 * same storage name in two virtual storages is two different nodes.
 */
export interface CommandHeader {
  /** The proposing router's name (its Praefect name). */
  readonly router: string;
  /** The proposer's wall clock at proposal, in Unix milliseconds. */
  readonly stampMs: number;
}

export interface StorageHealthReport {
  readonly virtualStorage: string;
  readonly storage: string;
  readonly healthy: boolean;
}

/** A router's own view of storage health; merges into its previous view, and refreshes its liveness. */
export interface HealthUpdateCommand extends CommandHeader {
  readonly type: 'health-update';
  readonly reports: readonly StorageHealthReport[];
}

/** The router is alive and its view is current. */
export interface LivenessRefreshCommand extends CommandHeader {
  readonly type: 'liveness-refresh';
}

/** Drops a router that left for good, so its old stamp and view no longer count. */
export interface ForgetRouterCommand extends CommandHeader {
  readonly type: 'forget-router';
  readonly target: string;
}

/** Cluster-wide settings every replica must agree on, so they are replicated rather than configured per router. */
export interface SetSettingsCommand extends CommandHeader {
  readonly type: 'set-settings';
  readonly activityWindowMs: number;
}

export interface CreateRepositoryCommand extends CommandHeader {
  readonly type: 'create-repository';
  readonly repositoryId: number;
  readonly virtualStorage: string;
  readonly relativePath: string;
  readonly replicaPath: string;
  readonly primary: string;
  /** Assigned storages; empty means every storage holding a replica is eligible (upstream's "no assignments"). */
  readonly assigned: readonly string[];
  /** Secondaries that were created along with the primary, so they start on generation 0 too. */
  readonly updatedSecondaries: readonly string[];
}

export interface DeleteRepositoryCommand extends CommandHeader {
  readonly type: 'delete-repository';
  readonly repositoryId: number;
}

/**
 * A compare-and-set on the primary: applies only if the primary is still
 * `expectedPrimary`. The new primary is chosen at apply time from the
 * replicated state (see election.ts), ties broken by `storageOrder`.
 */
export interface ElectPrimaryCommand extends CommandHeader {
  readonly type: 'elect-primary';
  readonly repositoryId: number;
  readonly expectedPrimary: string | null;
  /** The virtual storage's nodes in configuration order (DESIGN §8 tie-break). */
  readonly storageOrder: readonly string[];
}

/** After a write succeeded on the primary the call was routed to, at the generation it was routed with. */
export interface BumpGenerationCommand extends CommandHeader {
  readonly type: 'bump-generation';
  readonly repositoryId: number;
  readonly primary: string;
  readonly generation: number;
  /** The write intent this write recorded; cleared when the bump applies. */
  readonly intentId: string | null;
  /** Secondaries that took the same write (reference transactions) and move with the primary. */
  readonly updatedSecondaries: readonly string[];
}

/** After replicating `storage` from a source that was at `generation` before the copy. */
export interface SetReplicaGenerationCommand extends CommandHeader {
  readonly type: 'set-replica-generation';
  readonly repositoryId: number;
  readonly storage: string;
  readonly generation: number;
  /** The target's generation read before the copy (-1: it had none); null skips that check. */
  readonly expectedGeneration: number | null;
}

/** Before forwarding a mutator (DESIGN §10): the write about to go to `primary` at `generation`. */
export interface RecordWriteIntentCommand extends CommandHeader {
  readonly type: 'record-write-intent';
  readonly repositoryId: number;
  readonly intentId: string;
  readonly primary: string;
  readonly generation: number;
}

/** Settles a write intent whose bump never came (or was refused): see apply-write-intent.ts. */
export interface ResolveWriteIntentCommand extends CommandHeader {
  readonly type: 'resolve-write-intent';
  readonly repositoryId: number;
  readonly intentId: string;
}

/**
 * Drops a write intent whose write changed no replica: a reference
 * transaction on which no node voted, so no reference moved anywhere. No
 * generation changes and nothing is re-synced (resolve-write-intent would).
 */
export interface DiscardWriteIntentCommand extends CommandHeader {
  readonly type: 'discard-write-intent';
  readonly repositoryId: number;
  readonly intentId: string;
}

export interface SetAssignmentsCommand extends CommandHeader {
  readonly type: 'set-assignments';
  readonly repositoryId: number;
  readonly assigned: readonly string[];
}

/** Upstream's `set-replication-factor`: the assigned storages are chosen at apply time, deterministically. */
export interface SetReplicationFactorCommand extends CommandHeader {
  readonly type: 'set-replication-factor';
  readonly repositoryId: number;
  readonly replicationFactor: number;
  readonly storageOrder: readonly string[];
}

/** Upstream's `accept-dataloss`: `storage`'s copy becomes the only one on the latest generation. */
export interface AcceptDatalossCommand extends CommandHeader {
  readonly type: 'accept-dataloss';
  readonly repositoryId: number;
  readonly storage: string;
}

export type ClusterCommand =
  | HealthUpdateCommand
  | LivenessRefreshCommand
  | ForgetRouterCommand
  | SetSettingsCommand
  | CreateRepositoryCommand
  | DeleteRepositoryCommand
  | ElectPrimaryCommand
  | BumpGenerationCommand
  | SetReplicaGenerationCommand
  | RecordWriteIntentCommand
  | ResolveWriteIntentCommand
  | DiscardWriteIntentCommand
  | SetAssignmentsCommand
  | SetReplicationFactorCommand
  | AcceptDatalossCommand;

export type CommandType = ClusterCommand['type'];

/** A command without its header, as callers write it before stamping. */
export type CommandBody<T extends ClusterCommand = ClusterCommand> = T extends ClusterCommand ? Omit<T, keyof CommandHeader> : never;

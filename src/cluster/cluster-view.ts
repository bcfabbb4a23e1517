import type { ClusterSettings } from './cluster-settings.js';
import type { StateDigest } from './state-digest.js';

/**
 * What the router reads of the cluster state. Everything is computed from the
 * replicated state alone, with time taken from its cluster time, so two
 * routers at the same applied index answer alike. Reads are local: pair them
 * with a ReadIndex (RaftDriver.linearizableRead) for fresh routing (DESIGN §7).
 */
export interface ClusterView {
  /**
   * A digest of the whole replicated state with the applied index it was
   * taken at, for checking that routers agree (equal index, equal digest).
   * O(state): only on request.
   */
  stateDigest(): Promise<StateDigest>;
  clusterTimeMs(): number;
  settings(): ClusterSettings;
  routers(): RouterStatus[];
  /** Every (virtual storage, storage) any router reported, with its health by quorum. */
  storageHealth(): StorageHealthStatus[];
  isHealthy(virtualStorage: string, storage: string): boolean;
  repositoryCount(): number;
  repositoryId(virtualStorage: string, relativePath: string): number | undefined;
  repository(repositoryId: number): RepositoryView | undefined;
  /** Healthy replicas on the latest generation, the primary first: where accessors may go. */
  upToDateHealthyReplicas(repositoryId: number): string[];
  /** Expected replicas (assigned; replica holders when nothing is assigned) behind the latest generation or missing. */
  outdatedReplicas(repositoryId: number): OutdatedReplica[];
  /** Where a mutator goes now, or why it cannot. `storageOrder` ranks election candidates as the election would. */
  writeRoute(repositoryId: number, storageOrder?: readonly string[]): WriteRoute | undefined;
  availability(repositoryId: number): Availability | undefined;
  /** Per virtual storage, for gitaly_praefect_read_only_repositories / unavailable_repositories. */
  availabilityCounts(): AvailabilityCount[];
  /** Repositories needing replication, for the reconciler. */
  repositoriesWithOutdatedReplicas(): IterableIterator<number>;
  /** Upstream's `praefect dataloss`. */
  dataloss(options?: DatalossOptions): DatalossEntry[];
  /** Write intents recorded at least `olderThanMs` ago in cluster time: their router presumably died (DESIGN §10). */
  staleWriteIntents(olderThanMs: number): StaleWriteIntent[];
}

/**
 * writable: the primary is valid or an election has a candidate.
 * read-only: no valid primary can be had, but a healthy replica holds the latest data (reads work).
 * unavailable: no healthy replica holds the latest data.
 */
export type Availability = 'writable' | 'read-only' | 'unavailable';

export interface RepositoryView {
  readonly repositoryId: number;
  readonly virtualStorage: string;
  readonly relativePath: string;
  readonly replicaPath: string;
  readonly primary: string | null;
  readonly assigned: readonly string[];
  /** Generation per storage holding a replica. */
  readonly generations: Readonly<Record<string, number>>;
  readonly latestGeneration: number;
  readonly writeIntents: readonly WriteIntentView[];
}

export interface WriteIntentView {
  readonly intentId: string;
  readonly router: string;
  readonly storage: string;
  readonly generation: number;
  readonly recordedAtMs: number;
}

export interface StaleWriteIntent extends WriteIntentView {
  readonly repositoryId: number;
  readonly ageMs: number;
}

export type WriteRoute =
  | { readonly kind: 'primary'; readonly primary: string; readonly generation: number }
  | { readonly kind: 'needs-election'; readonly currentPrimary: string | null; readonly candidates: readonly string[] }
  | { readonly kind: 'read-only' | 'unavailable'; readonly currentPrimary: string | null; readonly reason: string };

export interface OutdatedReplica {
  readonly storage: string;
  /** -1 when the storage holds no replica yet. */
  readonly generation: number;
  readonly latestGeneration: number;
  readonly healthy: boolean;
}

export interface ReplicaStatus {
  readonly storage: string;
  /** -1 when the storage holds no replica. */
  readonly generation: number;
  /** How many generations behind the latest; the latest + 1 for a missing replica, as upstream reports it. */
  readonly behindBy: number;
  readonly assigned: boolean;
  readonly healthy: boolean;
  readonly validPrimary: boolean;
}

export interface DatalossOptions {
  readonly virtualStorage?: string;
  /** Upstream's --partially-unavailable: also list repositories whose only problem is an outdated or unhealthy assigned replica. */
  readonly partiallyUnavailable?: boolean;
}

export interface DatalossEntry {
  readonly repositoryId: number;
  readonly virtualStorage: string;
  readonly relativePath: string;
  readonly replicaPath: string;
  readonly primary: string | null;
  readonly availability: Availability;
  /** The primary is not on the latest generation (or there is none): writes since its copy could be lost. */
  readonly primaryOutdated: boolean;
  readonly replicas: readonly ReplicaStatus[];
}

export interface AvailabilityCount {
  readonly virtualStorage: string;
  readonly readOnly: number;
  readonly unavailable: number;
}

export interface RouterStatus {
  readonly router: string;
  readonly active: boolean;
  readonly lastSeenMs: number | null;
  readonly latestStampMs: number;
  readonly views: readonly { virtualStorage: string; storage: string; healthy: boolean; sinceMs: number }[];
}

export interface StorageHealthStatus {
  readonly virtualStorage: string;
  readonly storage: string;
  readonly healthy: boolean;
  readonly healthyVotes: number;
  readonly activeRouters: number;
}

import type { ClusterSettings } from './cluster-settings.js';
import { splitHealthKey, type ClusterState } from './cluster-state.js';
import type {
  Availability,
  AvailabilityCount,
  ClusterView,
  DatalossEntry,
  DatalossOptions,
  OutdatedReplica,
  RepositoryView,
  RouterStatus,
  StaleWriteIntent,
  StorageHealthStatus,
  WriteRoute,
} from './cluster-view.js';
import { dataloss } from './dataloss.js';
import { ClusterViewError } from './errors.js';
import type { StateDigest } from './state-digest.js';
import { compareNames } from './election.js';
import { consensusHealth, isActive } from './health.js';
import {
  availabilityOf,
  hasOutdatedReplicas,
  outdatedReplicas,
  repositoryView,
  upToDateHealthyReplicas,
  writeRouteOf,
} from './repository-queries.js';

/** The router's read side over a ClusterState (which a restore replaces in place, so this stays valid). */
export class ClusterQueries implements ClusterView {
  constructor(
    private readonly state: ClusterState,
    /** The owning state machine's digest, read in its apply order (a bare state knows no applied index). */
    private readonly digestOfMachine?: () => Promise<StateDigest>,
  ) {}

  stateDigest(): Promise<StateDigest> {
    if (this.digestOfMachine === undefined) return Promise.reject(new ClusterViewError('this view belongs to no state machine, so it has no applied index to digest at'));
    return this.digestOfMachine();
  }

  clusterTimeMs(): number {
    return this.state.clusterTimeMs;
  }

  settings(): ClusterSettings {
    return this.state.settings;
  }

  routers(): RouterStatus[] {
    return [...this.state.routers].map(([router, record]) => ({
      router,
      active: isActive(this.state, record),
      lastSeenMs: record.lastSeenMs ?? null,
      latestStampMs: record.latestStampMs,
      views: [...record.views].map(([key, view]) => ({ ...this.storageNames(key), ...view })),
    }));
  }

  storageHealth(): StorageHealthStatus[] {
    const health = consensusHealth(this.state);
    const keys = new Set([...this.state.routers.values()].flatMap((router) => [...router.views.keys()]));
    return [...keys]
      .map((key) => {
        const { virtualStorage, storage } = splitHealthKey(key);
        return {
          ...this.storageNames(key),
          healthy: health.isHealthy(virtualStorage, storage),
          healthyVotes: health.healthyVotes.get(key) ?? 0,
          activeRouters: health.activeRouters,
        };
      })
      .sort((a, b) => compareNames(a.virtualStorage, b.virtualStorage) || compareNames(a.storage, b.storage));
  }

  isHealthy(virtualStorage: string, storage: string): boolean {
    const vs = this.state.virtualStorages.lookup(virtualStorage);
    const id = this.state.storages.lookup(storage);
    return vs !== undefined && id !== undefined && consensusHealth(this.state).isHealthy(vs, id);
  }

  repositoryCount(): number {
    return this.state.repositories.size;
  }

  repositoryId(virtualStorage: string, relativePath: string): number | undefined {
    const vs = this.state.virtualStorages.lookup(virtualStorage);
    return vs === undefined ? undefined : this.state.repositoryIdByPath(vs, relativePath);
  }

  repository(repositoryId: number): RepositoryView | undefined {
    const record = this.state.repository(repositoryId);
    return record && repositoryView(this.state, record);
  }

  upToDateHealthyReplicas(repositoryId: number): string[] {
    const record = this.state.repository(repositoryId);
    return record ? upToDateHealthyReplicas(this.state, record, consensusHealth(this.state)) : [];
  }

  outdatedReplicas(repositoryId: number): OutdatedReplica[] {
    const record = this.state.repository(repositoryId);
    return record ? outdatedReplicas(this.state, record, consensusHealth(this.state)) : [];
  }

  writeRoute(repositoryId: number, storageOrder: readonly string[] = []): WriteRoute | undefined {
    const record = this.state.repository(repositoryId);
    return record && writeRouteOf(this.state, record, consensusHealth(this.state), storageOrder);
  }

  availability(repositoryId: number): Availability | undefined {
    const record = this.state.repository(repositoryId);
    return record && availabilityOf(record, consensusHealth(this.state));
  }

  availabilityCounts(): AvailabilityCount[] {
    const health = consensusHealth(this.state);
    const counts = new Map<number, { readOnly: number; unavailable: number }>();
    for (let vs = 0; vs < this.state.virtualStorages.size; vs++) counts.set(vs, { readOnly: 0, unavailable: 0 });
    for (const record of this.state.repositories.values()) {
      const availability = availabilityOf(record, health);
      const count = counts.get(record.virtualStorage)!;
      if (availability === 'read-only') count.readOnly++;
      else if (availability === 'unavailable') count.unavailable++;
    }
    return [...counts].map(([vs, count]) => ({ virtualStorage: this.state.virtualStorages.name(vs), ...count }));
  }

  *repositoriesWithOutdatedReplicas(): IterableIterator<number> {
    for (const record of this.state.repositories.values()) if (hasOutdatedReplicas(record)) yield record.id;
  }

  dataloss(options: DatalossOptions = {}): DatalossEntry[] {
    return dataloss(this.state, consensusHealth(this.state), options);
  }

  staleWriteIntents(olderThanMs: number): StaleWriteIntent[] {
    const now = this.state.clusterTimeMs;
    const stale: StaleWriteIntent[] = [];
    for (const record of this.state.repositories.values()) {
      for (const intent of record.intents ?? []) {
        const ageMs = now - intent.recordedAtMs;
        if (ageMs >= olderThanMs) stale.push({ ...intent, storage: this.state.storages.name(intent.storage), repositoryId: record.id, ageMs });
      }
    }
    return stale;
  }

  private storageNames(key: number): { virtualStorage: string; storage: string } {
    const { virtualStorage, storage } = splitHealthKey(key);
    return { virtualStorage: this.state.virtualStorages.name(virtualStorage), storage: this.state.storages.name(storage) };
  }
}

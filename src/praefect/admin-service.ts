// praefect.admin.ClusterAdmin on the router: its Raft member, the cluster
// state it applied (or caught up first, when asked for fresh), one
// repository's metadata.
import * as grpc from '@grpc/grpc-js';
import type { ClusterStateResponse, RaftStatusResponse, RepositoryMetadataRequest, RepositoryMetadataResponse } from '../admin/index.js';
import type { ClusterAccess, ClusterView } from '../cluster/index.js';
import type { HealthProber } from '../health/index.js';
import type { RaftDriver } from '../raft/index.js';

export interface AdminServiceDeps {
  readonly access: ClusterAccess;
  readonly driver: RaftDriver;
  readonly prober: HealthProber;
  readonly appliedIndex: () => number;
}

type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => void;

export function adminImplementation(deps: AdminServiceDeps): grpc.UntypedServiceImplementation {
  const raftStatus: Unary<unknown, RaftStatusResponse> = (_call, callback) => callback(null, raftStatusOf(deps));
  const clusterState: Unary<{ fresh: boolean }, ClusterStateResponse> = (call, callback) => {
    freshen(deps.access, call.request.fresh).then((freshError) => callback(null, clusterStateOf(deps, freshError)), (error: unknown) => callback(internal(error)));
  };
  const repositoryMetadata: Unary<RepositoryMetadataRequest, RepositoryMetadataResponse> = (call, callback) => {
    const request = call.request;
    freshen(deps.access, request.fresh === true).then((freshError) => {
      if (request.fresh === true && freshError !== '') return callback({ code: grpc.status.UNAVAILABLE, details: `cannot read fresh state: ${freshError}` });
      const answer = metadataOf(deps, request);
      callback(answer.code === undefined ? null : answer, answer.code === undefined ? { ...answer, fresh: request.fresh === true } : undefined);
    }, (error: unknown) => callback(internal(error)));
  };
  return { RaftStatus: raftStatus, ClusterState: clusterState, RepositoryMetadata: repositoryMetadata };
}

/** '' when fresh (or not asked to be), else why a ReadIndex failed. */
async function freshen(access: ClusterAccess, fresh: boolean): Promise<string> {
  if (!fresh) return '';
  try {
    await access.fresh();
    return '';
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

function raftStatusOf(deps: AdminServiceDeps): RaftStatusResponse {
  const s = deps.driver.status();
  return {
    router: deps.access.routerName,
    id: s.id,
    term: s.term,
    leader: s.lead,
    role: s.role,
    commit: s.commit,
    applied: s.applied,
    last_index: s.lastIndex,
    voters: [...s.confState.voters],
    learners: [...s.confState.learners],
    progress: [...s.progress].map(([id, p]) => ({ id, match: p.match, next: p.next, state: p.state, recent_active: p.recentActive })),
  };
}

function clusterStateOf(deps: AdminServiceDeps, freshError: string): ClusterStateResponse {
  const view = deps.access.view;
  let outdated = 0;
  for (const _ of view.repositoriesWithOutdatedReplicas()) outdated++;
  return {
    fresh: freshError === '',
    fresh_error: freshError,
    applied_index: deps.appliedIndex(),
    cluster_time_ms: view.clusterTimeMs(),
    routers: view.routers().map((r) => ({
      router: r.router,
      active: r.active,
      last_seen_ms: r.lastSeenMs ?? 0,
      views: r.views.map((v) => ({ virtual_storage: v.virtualStorage, storage: v.storage, healthy: v.healthy, since_ms: v.sinceMs })),
    })),
    storages: view.storageHealth().map((s) => ({
      virtual_storage: s.virtualStorage,
      storage: s.storage,
      healthy: s.healthy,
      healthy_votes: s.healthyVotes,
      active_routers: s.activeRouters,
      locally_reachable: deps.prober.isHealthy({ virtualStorage: s.virtualStorage, storage: s.storage }),
    })),
    repositories: view.repositoryCount(),
    availability: view.availabilityCounts().map((a) => ({ virtual_storage: a.virtualStorage, read_only: a.readOnly, unavailable: a.unavailable })),
    repositories_with_outdated_replicas: outdated,
  };
}

function metadataOf(deps: AdminServiceDeps, request: RepositoryMetadataRequest): (RepositoryMetadataResponse & { code?: undefined }) | grpc.ServiceError {
  const view: ClusterView = deps.access.view;
  const byPath = (request.repository_id ?? 0) === 0;
  if (byPath && ((request.virtual_storage ?? '') === '' || (request.relative_path ?? '') === '')) {
    return serviceError(grpc.status.INVALID_ARGUMENT, 'repository_id, or virtual_storage and relative_path, must be set');
  }
  const id = byPath ? view.repositoryId(request.virtual_storage!, request.relative_path!) : request.repository_id!;
  const repository = id === undefined ? undefined : view.repository(id);
  if (repository === undefined) {
    return serviceError(grpc.status.NOT_FOUND, byPath ? `repository not found: ${request.virtual_storage}/${request.relative_path}` : `repository ${request.repository_id} not found`);
  }
  const storages = new Set([...Object.keys(repository.generations), ...repository.assigned]);
  return {
    repository_id: repository.repositoryId,
    virtual_storage: repository.virtualStorage,
    relative_path: repository.relativePath,
    replica_path: repository.replicaPath,
    primary: repository.primary ?? '',
    generation: repository.latestGeneration,
    replicas: [...storages].sort().map((storage) => ({
      storage,
      generation: repository.generations[storage] ?? -1,
      assigned: repository.assigned.includes(storage),
      healthy: view.isHealthy(repository.virtualStorage, storage),
    })),
    write_intents: repository.writeIntents.length,
    applied_index: deps.appliedIndex(),
    fresh: false,
  };
}

function serviceError(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

function internal(error: unknown): grpc.ServiceError {
  return serviceError(grpc.status.INTERNAL, error instanceof Error ? error.message : String(error));
}

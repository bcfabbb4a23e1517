// The admin API over repositories in the cluster state: metadata, dataloss
// (upstream's), accept-dataloss, set-replication-factor.
import { AdminRequestError, requireField, type AcceptDatalossRequest, type AcceptDatalossResponse, type DatalossRequest, type DatalossResponse, type RepositoryMetadataRequest, type RepositoryMetadataResponse, type SetReplicationFactorRequest, type SetReplicationFactorResponse } from '../admin/index.js';
import type { ClusterView, DatalossEntry, RepositoryView } from '../cluster/index.js';
import { type AdminServiceDeps, configuredNodes, describe, requireConfiguredStorage, requireVirtualStorage } from './admin-deps.js';
import { requireFresh } from './admin-handlers.js';

export async function repositoryMetadata(deps: AdminServiceDeps, request: RepositoryMetadataRequest): Promise<RepositoryMetadataResponse> {
  const byPath = (request.repository_id ?? 0) === 0;
  if (byPath && ((request.virtual_storage ?? '') === '' || (request.relative_path ?? '') === '')) {
    throw new AdminRequestError('INVALID_ARGUMENT', 'repository_id, or virtual_storage and relative_path, must be set');
  }
  if (request.fresh === true) await requireFresh(deps.access);
  const view: ClusterView = deps.access.view;
  const id = byPath ? view.repositoryId(request.virtual_storage!, request.relative_path!) : request.repository_id!;
  const repository = id === undefined ? undefined : view.repository(id);
  if (repository === undefined) {
    throw new AdminRequestError('NOT_FOUND', byPath ? `repository not found: ${request.virtual_storage}/${request.relative_path}` : `repository ${request.repository_id} not found`);
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
    fresh: request.fresh === true,
  };
}
export async function datalossOf(deps: AdminServiceDeps, request: DatalossRequest): Promise<DatalossResponse> {
  const virtualStorage = request.virtual_storage ?? '';
  const known = deps.nodes?.virtualStorages() ?? [];
  if (virtualStorage !== '' && deps.nodes !== undefined && !deps.nodes.has(virtualStorage)) {
    throw new AdminRequestError('INVALID_ARGUMENT', `virtual_storage: unknown virtual storage "${virtualStorage}"; configured: ${known.join(', ')}`);
  }
  if (request.fresh === true) await requireFresh(deps.access);
  const entries = deps.access.view.dataloss({
    ...(virtualStorage === '' ? {} : { virtualStorage }),
    partiallyUnavailable: request.partially_unavailable === true,
  });
  return {
    virtual_storages: virtualStorage === '' ? known : [virtualStorage],
    repositories: entries.map(datalossRepository),
    fresh: request.fresh === true,
    applied_index: deps.appliedIndex(),
  };
}
function datalossRepository(entry: DatalossEntry): DatalossResponse['repositories'][number] {
  return {
    repository_id: entry.repositoryId,
    virtual_storage: entry.virtualStorage,
    relative_path: entry.relativePath,
    replica_path: entry.replicaPath,
    primary: entry.primary ?? '',
    availability: entry.availability,
    primary_outdated: entry.primaryOutdated,
    replicas: entry.replicas.map((r) => ({
      storage: r.storage,
      generation: r.generation,
      behind_by: r.behindBy,
      assigned: r.assigned,
      healthy: r.healthy,
      valid_primary: r.validPrimary,
    })),
  };
}
export async function acceptDataloss(deps: AdminServiceDeps, request: AcceptDatalossRequest): Promise<AcceptDatalossResponse> {
  const storage = requireField(request.authoritative_storage, 'authoritative_storage');
  const repository = await trackedRepository(deps, request.virtual_storage, request.relative_path);
  requireConfiguredStorage(deps, repository.virtualStorage, storage, 'authoritative_storage');
  const result = await deps.access.propose({ type: 'accept-dataloss', repositoryId: repository.repositoryId, storage });
  if (result.status === 'not-found') throw new AdminRequestError('NOT_FOUND', `repository not found: ${describe(repository)}`);
  if (result.status === 'conflict') {
    throw new AdminRequestError('FAILED_PRECONDITION', `authoritative_storage: ${storage} holds no replica of ${describe(repository)}; pick a storage that has one`);
  }
  return { repository_id: repository.repositoryId, generation: result.generation };
}
export async function setReplicationFactor(deps: AdminServiceDeps, request: SetReplicationFactorRequest): Promise<SetReplicationFactorResponse> {
  const factor = request.replication_factor ?? 0;
  if (factor < 1) throw new AdminRequestError('INVALID_ARGUMENT', `replication_factor: must be at least 1, got ${factor}`);
  const repository = await trackedRepository(deps, request.virtual_storage, request.relative_path);
  const storageOrder = configuredNodes(deps).storages(repository.virtualStorage);
  if (factor > storageOrder.length) {
    throw new AdminRequestError('INVALID_ARGUMENT', `replication_factor: ${factor} exceeds the ${storageOrder.length} storages of virtual storage "${repository.virtualStorage}"`);
  }
  const result = await deps.access.propose({ type: 'set-replication-factor', repositoryId: repository.repositoryId, replicationFactor: factor, storageOrder });
  if (result.status === 'not-found') throw new AdminRequestError('NOT_FOUND', `repository not found: ${describe(repository)}`);
  if (result.status === 'conflict') {
    const why = result.reason === 'primary-not-assigned' ? `the primary ${result.currentPrimary ?? '(none)'} would not be assigned` : 'not enough storages to assign';
    throw new AdminRequestError('FAILED_PRECONDITION', `cannot set the replication factor of ${describe(repository)} to ${factor}: ${why}`);
  }
  return { repository_id: repository.repositoryId, assigned: [...result.assigned] };
}
/** The repository, read from fresh state; INVALID_ARGUMENT or NOT_FOUND naming the field. */
async function trackedRepository(deps: AdminServiceDeps, virtualStorage: string | undefined, relativePath: string | undefined): Promise<RepositoryView> {
  const vs = requireField(virtualStorage, 'virtual_storage');
  const path = requireField(relativePath, 'relative_path');
  requireVirtualStorage(deps, vs);
  await requireFresh(deps.access);
  const view = deps.access.view;
  const id = view.repositoryId(vs, path);
  const repository = id === undefined ? undefined : view.repository(id);
  if (repository === undefined) throw new AdminRequestError('NOT_FOUND', `relative_path: repository not found: ${vs}/${path}`);
  return repository;
}

// track-repository and remove-repository: the cluster state and PostgreSQL's
// catalogue changed together, Raft first.
import * as grpc from '@grpc/grpc-js';
import { AdminRequestError, requireField, type RemoveRepositoryRequest, type RemoveRepositoryResponse, type TrackRepositoryRequest, type TrackRepositoryResponse } from '../admin/index.js';
import type { RepositoryView } from '../cluster/index.js';
import { deleteReplicaJob, updateJob } from '../coordinator/index.js';
import { RepositoryExistsError, RepositoryStore } from '../db/index.js';
import { gitalyClient } from '../gitaly/index.js';
import { type AdminServiceDeps, DEFAULT_DIAL_TIMEOUT_MS, type RepositoryDeps, configuredNodes, requireConfiguredStorage, requireVirtualStorage } from './admin-deps.js';
import { messageOf, requireFresh } from './admin-handlers.js';

export async function trackRepository({ deps, queue, store }: RepositoryDeps, request: TrackRepositoryRequest): Promise<TrackRepositoryResponse> {
  const virtualStorage = requireField(request.virtual_storage, 'virtual_storage');
  const relativePath = requireField(request.relative_path, 'relative_path');
  const authoritative = requireField(request.authoritative_storage, 'authoritative_storage');
  requireVirtualStorage(deps, virtualStorage);
  requireConfiguredStorage(deps, virtualStorage, authoritative, 'authoritative_storage');
  if (store === undefined) throw new AdminRequestError('FAILED_PRECONDITION', 'this router has no database configured');
  await requireFresh(deps.access);
  if (deps.access.view.repositoryId(virtualStorage, relativePath) !== undefined) {
    throw new AdminRequestError('ALREADY_EXISTS', `relative_path: ${virtualStorage}/${relativePath} is already tracked`);
  }
  // An untracked repository lives on disk at its relative path: that stays its replica path.
  const replicaPath = relativePath;
  await requireReplicaOnDisk(deps, virtualStorage, authoritative, replicaPath);
  const repositoryId = await catalogue(store, virtualStorage, relativePath, replicaPath);
  const assigned = placement(deps, virtualStorage, authoritative);
  const result = await deps.access.propose({ type: 'create-repository', repositoryId, virtualStorage, relativePath, replicaPath, primary: authoritative, assigned, updatedSecondaries: [] });
  if (result.status !== 'ok') throw new AdminRequestError('ALREADY_EXISTS', `relative_path: ${virtualStorage}/${relativePath} is already tracked (repository ${result.existingRepositoryId})`);
  if (request.replicate_immediately === true && queue !== undefined) {
    const view: RepositoryView = { repositoryId, virtualStorage, relativePath, replicaPath, primary: authoritative, assigned, generations: {}, latestGeneration: 0, writeIntents: [] };
    await Promise.all(assigned.filter((s) => s !== authoritative).map((s) => queue.enqueue(updateJob(view, authoritative, s))));
  }
  return { repository_id: repositoryId, replica_path: replicaPath, assigned };
}
async function catalogue(store: RepositoryStore, virtualStorage: string, relativePath: string, replicaPath: string): Promise<number> {
  try {
    const repositoryId = await store.reserveId();
    await store.insert({ repositoryId, virtualStorage, relativePath, replicaPath });
    return repositoryId;
  } catch (error) {
    if (error instanceof RepositoryExistsError) throw new AdminRequestError('ALREADY_EXISTS', `relative_path: ${virtualStorage}/${relativePath} is already in the database`);
    throw error;
  }
}
/** The authoritative storage first, then configuration order, up to the virtual storage's replication factor (0: all). */
function placement(deps: AdminServiceDeps, virtualStorage: string, authoritative: string): string[] {
  const nodes = configuredNodes(deps);
  const order = [authoritative, ...nodes.storages(virtualStorage).filter((s) => s !== authoritative)];
  const factor = nodes.defaultReplicationFactor(virtualStorage);
  return factor === 0 ? order : order.slice(0, factor);
}
async function requireReplicaOnDisk(deps: AdminServiceDeps, virtualStorage: string, storage: string, replicaPath: string): Promise<void> {
  const node = configuredNodes(deps).find(virtualStorage, storage)!;
  const client = gitalyClient('gitaly.RepositoryService', node.address, node.token === '' ? {} : { token: node.token });
  try {
    const exists = await new Promise<boolean>((resolve, reject) => {
      const method = (client as unknown as Record<string, (...args: unknown[]) => unknown>)['RepositoryExists']!.bind(client);
      method({ repository: { storage_name: storage, relative_path: replicaPath } }, { deadline: Date.now() + DEFAULT_DIAL_TIMEOUT_MS }, (error: grpc.ServiceError | null, response: { exists: boolean }) =>
        error ? reject(new AdminRequestError('UNAVAILABLE', `authoritative_storage: cannot ask ${storage} whether it holds ${replicaPath}: ${error.details || error.message}`)) : resolve(response.exists),
      );
    });
    if (!exists) throw new AdminRequestError('FAILED_PRECONDITION', `authoritative_storage: ${storage} holds no repository at ${replicaPath}`);
  } finally {
    client.close();
  }
}
export async function removeRepository({ deps, queue, store }: RepositoryDeps, request: RemoveRepositoryRequest): Promise<RemoveRepositoryResponse> {
  const virtualStorage = requireField(request.virtual_storage, 'virtual_storage');
  const relativePath = requireField(request.relative_path, 'relative_path');
  requireVirtualStorage(deps, virtualStorage);
  await requireFresh(deps.access);
  const id = deps.access.view.repositoryId(virtualStorage, relativePath);
  const repository = id === undefined ? undefined : deps.access.view.repository(id);
  const database = await catalogueRecord(store, virtualStorage, relativePath);
  if (repository === undefined && database.record === undefined && database.error === '') {
    throw new AdminRequestError('NOT_FOUND', `relative_path: repository not found: ${virtualStorage}/${relativePath}`);
  }
  const answer: RemoveRepositoryResponse = {
    applied: false,
    repository_id: repository?.repositoryId ?? database.record?.repositoryId ?? 0,
    replica_path: repository?.replicaPath ?? database.record?.replicaPath ?? '',
    replicas: repository === undefined ? [] : Object.keys(repository.generations).sort(),
    in_cluster_state: repository !== undefined,
    in_database: database.record !== undefined,
    database_error: database.error,
  };
  if (request.apply !== true) return answer;
  if (repository !== undefined) await deps.access.propose({ type: 'delete-repository', repositoryId: repository.repositoryId });
  // Raft first: the repository is gone for every router even if the database steps below fail.
  const databaseError = await databaseSteps(async () => {
    await store?.delete(virtualStorage, relativePath);
    if (repository === undefined || request.db_only === true || queue === undefined) return;
    await Promise.all(answer.replicas.map((storage) => queue.enqueue(deleteReplicaJob(repository, storage))));
  });
  return { ...answer, applied: true, database_error: databaseError || answer.database_error };
}
/** '' when the steps succeeded, else the database's error. */
async function databaseSteps(steps: () => Promise<void>): Promise<string> {
  try {
    await steps();
    return '';
  } catch (error) {
    return messageOf(error);
  }
}
async function catalogueRecord(store: RepositoryStore | undefined, virtualStorage: string, relativePath: string) {
  if (store === undefined) return { record: undefined, error: 'this router has no database configured' };
  try {
    return { record: await store.get(virtualStorage, relativePath), error: '' };
  } catch (error) {
    return { record: undefined, error: messageOf(error) };
  }
}

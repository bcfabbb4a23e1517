// praefect.admin.ClusterAdmin on the router: its Raft member, the cluster
// state it applied (or caught up first, when asked for fresh), one
// repository's metadata, and the operator commands (upstream Praefect's
// subcommands, plus Raft membership and leadership transfer).
import * as grpc from '@grpc/grpc-js';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  AdminRequestError,
  requireField,
  type AcceptDatalossRequest,
  type AcceptDatalossResponse,
  type ChangeMembershipRequest,
  type ChangeMembershipResponse,
  type ClusterStateResponse,
  type ConfiguredStorage,
  type DatalossRequest,
  type DatalossResponse,
  type DialNodesResponse,
  type DialResult,
  type ListUntrackedRepositoriesRequest,
  type ListUntrackedRepositoriesResponse,
  type UntrackedRepository,
  type ListStoragesResponse,
  type QueueStatusResponse,
  type RaftStatusResponse,
  type RemoveRepositoryRequest,
  type RemoveRepositoryResponse,
  type RepositoryMetadataRequest,
  type RepositoryMetadataResponse,
  type SetReplicationFactorRequest,
  type SetReplicationFactorResponse,
  type TrackRepositoryRequest,
  type TrackRepositoryResponse,
  type TransferLeaderResponse,
} from '../admin/index.js';
import type { ClusterAccess, ClusterView, DatalossEntry, RepositoryView } from '../cluster/index.js';
import type { NodeAddress, NodeDirectory } from '../config/index.js';
import { deleteReplicaJob, updateJob } from '../coordinator/index.js';
import { DatabaseError, RepositoryExistsError, ReplicationQueue, RepositoryStore, type DatabasePool } from '../db/index.js';
import { gitalyClient } from '../gitaly/index.js';
import { GrpcHealthClient, type HealthProber } from '../health/index.js';
import { raftErrorStatus, RaftError, validateConfChange, type ConfChange, type GrpcTransport, type RaftDriver } from '../raft/index.js';

export interface AdminServiceDeps {
  readonly access: ClusterAccess;
  readonly driver: RaftDriver;
  readonly prober: HealthProber;
  readonly appliedIndex: () => number;
  /** The configured storage nodes; without them the storage and repository commands answer FAILED_PRECONDITION. */
  readonly nodes?: NodeDirectory;
  /** PostgreSQL: the catalogue and the replication queue. */
  readonly pool?: DatabasePool;
  /** Where AddRaftPeer records a new member's address. */
  readonly transport?: Pick<GrpcTransport, 'setPeer'>;
  /** The raft data_dir: AddRaftPeer also writes the address there (learned-peers.json), so a restart keeps it. */
  readonly raftDataDir?: string;
}

type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => void;

const DEFAULT_DIAL_TIMEOUT_MS = 5_000;
const DEFAULT_TRANSFER_TIMEOUT_MS = 10_000;
const CONF_CHANGE_TIMEOUT_MS = 10_000;
const POLL_INTERVAL_MS = 50;

export function adminImplementation(deps: AdminServiceDeps): grpc.UntypedServiceImplementation {
  const queue = deps.pool === undefined ? undefined : new ReplicationQueue(deps.pool);
  const store = deps.pool === undefined ? undefined : new RepositoryStore(deps.pool);
  const repositories = { deps, queue, store };
  return {
    RaftStatus: unary(async () => raftStatusOf(deps)),
    ClusterState: unary(async (request: { fresh: boolean }) => clusterStateOf(deps, await freshen(deps.access, request.fresh))),
    RepositoryMetadata: unary((request: RepositoryMetadataRequest) => repositoryMetadata(deps, request)),
    Dataloss: unary((request: DatalossRequest) => datalossOf(deps, request)),
    AcceptDataloss: unary((request: AcceptDatalossRequest) => acceptDataloss(deps, request)),
    SetReplicationFactor: unary((request: SetReplicationFactorRequest) => setReplicationFactor(deps, request)),
    QueueStatus: unary(() => queueStatus(queue)),
    ListStorages: unary(async (request: { virtual_storage: string }) => listStorages(deps, request.virtual_storage)),
    DialNodes: unary((request: { timeout_ms: number }) => dialNodes(deps, request.timeout_ms || DEFAULT_DIAL_TIMEOUT_MS)),
    AddRaftPeer: unary(async (request: { node_id: number; raft_address: string }) => addRaftPeer(deps, request)),
    ChangeMembership: unary((request: ChangeMembershipRequest) => changeMembership(deps, request)),
    TransferLeader: unary((request: { to: number; timeout_ms: number }) => transferLeader(deps, request.to, request.timeout_ms || DEFAULT_TRANSFER_TIMEOUT_MS)),
    TrackRepository: unary((request: TrackRepositoryRequest) => trackRepository(repositories, request)),
    RemoveRepository: unary((request: RemoveRepositoryRequest) => removeRepository(repositories, request)),
    ListUntrackedRepositories: serverStreaming((request: ListUntrackedRepositoriesRequest, send, signal) => listUntrackedRepositories(repositories, request, send, signal)),
  };
}

type Send<Res> = (message: Res) => Promise<void>;

/** A server-streaming handler: `send` waits while the client is slow to read; the signal aborts when the client goes away. */
function serverStreaming<Req, Res>(handle: (request: Req, send: Send<Res>, signal: AbortSignal) => Promise<void>): grpc.handleServerStreamingCall<Req, Res> {
  return (call) => {
    const controller = new AbortController();
    call.on('cancelled', () => controller.abort(new Error('the client cancelled the call')));
    const send: Send<Res> = (message) =>
      new Promise<void>((resolve, reject) => {
        const signal = controller.signal;
        if (signal.aborted) return reject(signal.reason as Error);
        if (call.write(message)) return resolve();
        const onDrain = (): void => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = (): void => {
          call.removeListener('drain', onDrain);
          reject(signal.reason as Error);
        };
        call.once('drain', onDrain);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    handle(call.request, send, controller.signal).then(
      () => call.end(),
      (error: unknown) => {
        if (!call.cancelled) call.emit('error', statusOf(error));
      },
    );
  };
}

/** One handler: its result, or its error as a status that names what went wrong. */
function unary<Req, Res>(handle: (request: Req) => Promise<Res>): Unary<Req, Res> {
  return (call, callback) => {
    handle(call.request).then(
      (response) => callback(null, response),
      (error: unknown) => callback(statusOf(error)),
    );
  };
}

function statusOf(error: unknown): grpc.ServiceError {
  if (error instanceof AdminRequestError) return serviceError(error.grpcCode, error.message);
  if (error instanceof RaftError) {
    const { code, details } = raftErrorStatus(error);
    return serviceError(code, details);
  }
  if (error instanceof DatabaseError) return serviceError(grpc.status.UNAVAILABLE, `the database is unavailable: ${error.message}`);
  return serviceError(grpc.status.INTERNAL, messageOf(error));
}

function serviceError(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** '' when fresh (or not asked to be), else why a ReadIndex failed. */
async function freshen(access: ClusterAccess, fresh: boolean): Promise<string> {
  if (!fresh) return '';
  try {
    await access.fresh();
    return '';
  } catch (error) {
    return messageOf(error);
  }
}

/** Catches up with the Raft group or fails UNAVAILABLE: operator commands decide on fresh state only. */
async function requireFresh(access: ClusterAccess): Promise<void> {
  const freshError = await freshen(access, true);
  if (freshError !== '') throw new AdminRequestError('UNAVAILABLE', `cannot read fresh cluster state (no Raft quorum reachable from router ${access.routerName}?): ${freshError}`);
}

// ---- Raft and cluster state ----------------------------------------------------

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

async function repositoryMetadata(deps: AdminServiceDeps, request: RepositoryMetadataRequest): Promise<RepositoryMetadataResponse> {
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

// ---- dataloss, accept-dataloss, set-replication-factor ---------------------------

async function datalossOf(deps: AdminServiceDeps, request: DatalossRequest): Promise<DatalossResponse> {
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

async function acceptDataloss(deps: AdminServiceDeps, request: AcceptDatalossRequest): Promise<AcceptDatalossResponse> {
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

async function setReplicationFactor(deps: AdminServiceDeps, request: SetReplicationFactorRequest): Promise<SetReplicationFactorResponse> {
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

function configuredNodes(deps: AdminServiceDeps): NodeDirectory {
  if (deps.nodes === undefined) throw new AdminRequestError('FAILED_PRECONDITION', 'this router was started without its storage configuration');
  return deps.nodes;
}

function requireVirtualStorage(deps: AdminServiceDeps, virtualStorage: string): void {
  const nodes = configuredNodes(deps);
  if (!nodes.has(virtualStorage)) {
    throw new AdminRequestError('INVALID_ARGUMENT', `virtual_storage: unknown virtual storage "${virtualStorage}"; configured: ${nodes.virtualStorages().join(', ')}`);
  }
}

function requireConfiguredStorage(deps: AdminServiceDeps, virtualStorage: string, storage: string, field: string): void {
  const order = configuredNodes(deps).storages(virtualStorage);
  if (!order.includes(storage)) {
    throw new AdminRequestError('INVALID_ARGUMENT', `${field}: "${storage}" is not a storage of virtual storage "${virtualStorage}"; storages: ${order.join(', ')}`);
  }
}

function describe(repository: Pick<RepositoryView, 'virtualStorage' | 'relativePath'>): string {
  return `${repository.virtualStorage}/${repository.relativePath}`;
}

// ---- replication queue and storage nodes ---------------------------------------

async function queueStatus(queue: ReplicationQueue | undefined): Promise<QueueStatusResponse> {
  if (queue === undefined) return { database_up: false, database_error: 'this router has no database configured', depth: [], dead: [] };
  try {
    const [depth, dead] = await Promise.all([queue.depth(), queue.deadCounts()]);
    return {
      database_up: true,
      database_error: '',
      depth: depth.map((d) => ({ virtual_storage: d.virtualStorage, target_storage: d.targetStorage, state: d.state, count: d.count })),
      dead: dead.map((d) => ({ virtual_storage: d.virtualStorage, target_storage: d.targetStorage, count: d.count })),
    };
  } catch (error) {
    return { database_up: false, database_error: messageOf(error), depth: [], dead: [] };
  }
}

function listStorages(deps: AdminServiceDeps, virtualStorage: string): ListStoragesResponse {
  const nodes = configuredNodes(deps);
  if (virtualStorage !== '') requireVirtualStorage(deps, virtualStorage);
  const probes = new Map(deps.prober.view().nodes.map((n) => [`${n.virtualStorage}/${n.storage}`, n]));
  const storages: ConfiguredStorage[] = nodes
    .all()
    .filter((n) => virtualStorage === '' || n.virtualStorage === virtualStorage)
    .map((n) => {
      const probe = probes.get(`${n.virtualStorage}/${n.storage}`);
      const last = probe?.lastProbe ?? null;
      return {
        virtual_storage: n.virtualStorage,
        storage: n.storage,
        address: n.address,
        default_replication_factor: nodes.defaultReplicationFactor(n.virtualStorage),
        locally_healthy: probe?.healthy ?? false,
        last_probe_ok: last?.ok ?? false,
        last_probe_error: last === null ? 'not probed yet' : last.ok ? '' : `${last.reason ?? 'error'}: ${last.detail ?? ''}`,
        last_probe_latency_ms: last?.latencyMs ?? 0,
        healthy: deps.access.view.isHealthy(n.virtualStorage, n.storage),
      };
    });
  return { storages };
}

async function dialNodes(deps: AdminServiceDeps, timeoutMs: number): Promise<DialNodesResponse> {
  const nodes = configuredNodes(deps).all();
  const client = new GrpcHealthClient({ maxReconnectBackoffMs: timeoutMs });
  try {
    const results = await Promise.all(nodes.map(async (n): Promise<DialResult> => {
      const startedMs = performance.now();
      const outcome = await client.check({ ...n, token: n.token ?? '' }, { timeoutMs, signal: AbortSignal.timeout(timeoutMs) });
      const latencyMs = performance.now() - startedMs;
      const error = outcome.ok ? '' : `${outcome.reason}: ${outcome.detail}`;
      return { virtual_storage: n.virtualStorage, storage: n.storage, address: n.address, ok: outcome.ok, latency_ms: latencyMs, error };
    }));
    return { router: deps.access.routerName, nodes: results };
  } finally {
    client.close();
  }
}

// ---- Raft membership and leadership ---------------------------------------------

function addRaftPeer(deps: AdminServiceDeps, request: { node_id: number; raft_address: string }): object {
  if (deps.transport === undefined) throw new AdminRequestError('FAILED_PRECONDITION', 'this router cannot add Raft peers (no transport given to the admin service)');
  if (!(request.node_id > 0)) throw new AdminRequestError('INVALID_ARGUMENT', 'node_id: must be a positive Raft node id');
  const address = requireField(request.raft_address, 'raft_address');
  if (!/^[^:\s]+:\d{1,5}$/.test(address)) throw new AdminRequestError('INVALID_ARGUMENT', `raft_address: "${address}" is not HOST:PORT`);
  if (deps.raftDataDir !== undefined) rememberPeer(deps.raftDataDir, request.node_id, address);
  deps.transport.setPeer(request.node_id, address);
  return {};
}

// ---- learned Raft peer addresses ------------------------------------------------
// Raft's configuration entries carry node ids only, so an address told to a
// router (AddRaftPeer) lives outside the log: in this file of its data_dir.

const LEARNED_PEERS_FILE = 'learned-peers.json';
/** A bound on the file: far more members than a Raft group should ever have. */
const MAX_LEARNED_PEERS = 256;

/** The addresses AddRaftPeer recorded in this data_dir, by node id; empty when there are none. */
export function loadLearnedPeers(raftDataDir: string): Map<number, string> {
  const file = path.join(raftDataDir, LEARNED_PEERS_FILE);
  if (!existsSync(file)) return new Map();
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  const peers = new Map<number, string>();
  for (const [id, address] of Object.entries(parsed !== null && typeof parsed === 'object' ? parsed : {})) {
    if (Number.isSafeInteger(Number(id)) && Number(id) > 0 && typeof address === 'string' && address !== '') peers.set(Number(id), address);
  }
  return peers;
}

function rememberPeer(raftDataDir: string, nodeId: number, address: string): void {
  const peers = loadLearnedPeers(raftDataDir);
  if (peers.get(nodeId) === address) return;
  peers.set(nodeId, address);
  if (peers.size > MAX_LEARNED_PEERS) throw new AdminRequestError('FAILED_PRECONDITION', `this router already knows ${MAX_LEARNED_PEERS} learned peer addresses`);
  const file = path.join(raftDataDir, LEARNED_PEERS_FILE);
  // Write then rename: a crash leaves the old file or the new one, never half of one.
  writeFileSync(`${file}.tmp`, `${JSON.stringify(Object.fromEntries(peers), null, 2)}\n`, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

const CONF_CHANGE_OF = { 'add-learner': 'addLearner', promote: 'promote', remove: 'remove' } as const;

async function changeMembership(deps: AdminServiceDeps, request: ChangeMembershipRequest): Promise<ChangeMembershipResponse> {
  const type = CONF_CHANGE_OF[request.change as keyof typeof CONF_CHANGE_OF] as ConfChange['type'] | undefined;
  if (type === undefined) throw new AdminRequestError('INVALID_ARGUMENT', `change: must be add-learner, promote or remove, got "${request.change}"`);
  if (!(request.node_id > 0)) throw new AdminRequestError('INVALID_ARGUMENT', 'node_id: must be a positive Raft node id');
  if (type === 'addLearner') addRaftPeer(deps, { node_id: request.node_id, raft_address: request.raft_address ?? '' });
  const change: ConfChange = { type, nodeId: request.node_id };
  // A refused change forwarded to the leader is dropped there: refuse it here, against the latest configuration we know.
  const problem = validateConfChange(change, deps.driver.status().confState);
  if (problem !== undefined) throw new AdminRequestError('FAILED_PRECONDITION', `node_id: ${problem}`);
  const confState = await withTimeout(deps.driver.proposeConfChange(change), CONF_CHANGE_TIMEOUT_MS, `the ${request.change} of node ${request.node_id}`);
  return { voters: [...confState.voters], learners: [...confState.learners] };
}

async function transferLeader(deps: AdminServiceDeps, to: number, timeoutMs: number): Promise<TransferLeaderResponse> {
  const status = deps.driver.status();
  if (!status.confState.voters.includes(to)) {
    throw new AdminRequestError('INVALID_ARGUMENT', `to: node ${to} is not a voter; voters are ${status.confState.voters.join(', ')}`);
  }
  if (status.lead === 0) throw new AdminRequestError('UNAVAILABLE', `router ${deps.access.routerName} knows no leader to transfer from`);
  if (status.lead !== to) deps.driver.transferLeadership(to);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = deps.driver.status();
    if (now.lead === to) return { leader: to, term: now.term };
    if (Date.now() > deadline) {
      throw new AdminRequestError('DEADLINE_EXCEEDED', `leadership did not move to node ${to} within ${timeoutMs} ms (leader is ${now.lead || 'unknown'}, term ${now.term})`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new AdminRequestError('DEADLINE_EXCEEDED', `${what} was not applied within ${timeoutMs} ms; its outcome is unknown (check \`members list\`)`)),
      timeoutMs,
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

// ---- track-repository and remove-repository --------------------------------------

interface RepositoryDeps {
  readonly deps: AdminServiceDeps;
  readonly queue: ReplicationQueue | undefined;
  readonly store: RepositoryStore | undefined;
}

async function trackRepository({ deps, queue, store }: RepositoryDeps, request: TrackRepositoryRequest): Promise<TrackRepositoryResponse> {
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

async function removeRepository({ deps, queue, store }: RepositoryDeps, request: RemoveRepositoryRequest): Promise<RemoveRepositoryResponse> {
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

// ---- list-untracked-repositories ---------------------------------------------------

/** Paths checked against the database in one query. */
const UNTRACKED_BATCH = 500;

async function listUntrackedRepositories(
  { deps, store }: RepositoryDeps,
  request: ListUntrackedRepositoriesRequest,
  send: Send<ListUntrackedRepositoriesResponse>,
  signal: AbortSignal,
): Promise<void> {
  const virtualStorage = request.virtual_storage ?? '';
  if (virtualStorage !== '') requireVirtualStorage(deps, virtualStorage);
  const nodes = configuredNodes(deps).all().filter((n) => virtualStorage === '' || n.virtualStorage === virtualStorage);
  if (store === undefined) throw new AdminRequestError('FAILED_PRECONDITION', 'this router has no database configured');
  // Ask the database before walking: without it nothing can be called untracked.
  await untrackedCheck(() => store.trackedReplicaPaths(nodes[0]?.virtualStorage ?? '', []));
  const olderThanMs = request.older_than_ms ?? 0;
  const cutoffMs = olderThanMs > 0 ? Date.now() - olderThanMs : Number.POSITIVE_INFINITY;
  for (const node of nodes) {
    for await (const batch of walkNode(node, signal)) {
      const old = batch.filter((r) => r.modification_time_ms <= cutoffMs);
      if (old.length === 0) continue;
      const tracked = await untrackedCheck(() => store.trackedReplicaPaths(node.virtualStorage, old.map((r) => r.relative_path)));
      const untracked = old.filter((r) => !tracked.has(r.relative_path));
      if (untracked.length > 0) await send({ repositories: untracked });
    }
  }
}

async function untrackedCheck<T>(query: () => Promise<T>): Promise<T> {
  try {
    return await query();
  } catch (error) {
    if (error instanceof DatabaseError) throw new AdminRequestError('UNAVAILABLE', `the database is unavailable, so tracked repositories cannot be told from untracked ones: ${error.message}`);
    throw error;
  }
}

interface WalkedRepository {
  relative_path: string;
  modification_time: { seconds: number; nanos: number } | null;
}

/** The node's repositories in batches of UNTRACKED_BATCH, read from its WalkRepos stream as the batches are consumed. */
async function* walkNode(node: NodeAddress, signal: AbortSignal): AsyncGenerator<UntrackedRepository[]> {
  const client = gitalyClient('gitaly.InternalGitaly', node.address, node.token === '' ? {} : { token: node.token });
  const method = (client as unknown as Record<string, (request: object) => grpc.ClientReadableStream<WalkedRepository>>)['WalkRepos']!.bind(client);
  const stream = method({ storage_name: node.storage });
  const cancel = (): void => stream.cancel();
  signal.addEventListener('abort', cancel, { once: true });
  let batch: UntrackedRepository[] = [];
  try {
    for await (const found of stream as AsyncIterable<WalkedRepository>) {
      const time = found.modification_time;
      batch.push({
        virtual_storage: node.virtualStorage,
        storage: node.storage,
        relative_path: found.relative_path,
        modification_time_ms: time === null ? 0 : time.seconds * 1000 + Math.floor(time.nanos / 1e6),
      });
      if (batch.length >= UNTRACKED_BATCH) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  } catch (error) {
    if (signal.aborted) throw error;
    const details = typeof error === 'object' && error !== null && 'details' in error ? String(error.details) : messageOf(error);
    throw new AdminRequestError('UNAVAILABLE', `storage ${node.virtualStorage}/${node.storage} (${node.address}) could not list its repositories: ${details}`);
  } finally {
    signal.removeEventListener('abort', cancel);
    stream.cancel();
    client.close();
  }
}

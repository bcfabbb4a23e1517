// The admin API's messages as plain objects (snake_case, as on the wire).

export interface RaftProgress {
  id: number;
  match: number;
  next: number;
  state: string;
  recent_active: boolean;
}

export interface RaftStatusResponse {
  router: string;
  id: number;
  term: number;
  leader: number;
  role: string;
  commit: number;
  applied: number;
  last_index: number;
  voters: number[];
  learners: number[];
  progress: RaftProgress[];
  /** Hex SHA-256 of the replicated state at digest_index; '' unless asked for (with_digest). */
  state_digest: string;
  digest_index: number;
  /** Reference transactions open on this router now. */
  transactions_in_flight: number;
}

export interface RaftStatusRequest {
  /** Also digest the replicated state: O(state). */
  with_digest?: boolean;
}

export interface StorageView {
  virtual_storage: string;
  storage: string;
  healthy: boolean;
  since_ms: number;
}

export interface RouterView {
  router: string;
  active: boolean;
  last_seen_ms: number;
  views: StorageView[];
}

export interface StorageHealth {
  virtual_storage: string;
  storage: string;
  healthy: boolean;
  healthy_votes: number;
  active_routers: number;
  locally_reachable: boolean;
}

export interface AvailabilityCount {
  virtual_storage: string;
  read_only: number;
  unavailable: number;
}

export interface ClusterStateResponse {
  fresh: boolean;
  fresh_error: string;
  applied_index: number;
  cluster_time_ms: number;
  routers: RouterView[];
  storages: StorageHealth[];
  repositories: number;
  availability: AvailabilityCount[];
  repositories_with_outdated_replicas: number;
  write_intents: number;
  /** Oldest first, at most 20; stale_intents_total counts them all. */
  stale_intents: StaleIntent[];
  stale_intents_total: number;
  stale_intent_age_ms: number;
}

export interface StaleIntent {
  repository_id: number;
  virtual_storage: string;
  relative_path: string;
  router: string;
  storage: string;
  generation: number;
  age_ms: number;
  router_active: boolean;
}

export interface RepositoryMetadataRequest {
  repository_id?: number;
  virtual_storage?: string;
  relative_path?: string;
  fresh?: boolean;
}

export interface Replica {
  storage: string;
  generation: number;
  assigned: boolean;
  healthy: boolean;
}

export interface RepositoryMetadataResponse {
  repository_id: number;
  virtual_storage: string;
  relative_path: string;
  replica_path: string;
  primary: string;
  generation: number;
  replicas: Replica[];
  write_intents: number;
  applied_index: number;
  fresh: boolean;
}

export interface DatalossRequest {
  virtual_storage?: string;
  partially_unavailable?: boolean;
  fresh?: boolean;
}

export interface DatalossReplica {
  storage: string;
  generation: number;
  behind_by: number;
  assigned: boolean;
  healthy: boolean;
  valid_primary: boolean;
}

export interface DatalossRepository {
  repository_id: number;
  virtual_storage: string;
  relative_path: string;
  replica_path: string;
  primary: string;
  availability: string;
  primary_outdated: boolean;
  replicas: DatalossReplica[];
}

export interface DatalossResponse {
  virtual_storages: string[];
  repositories: DatalossRepository[];
  fresh: boolean;
  applied_index: number;
}

export interface AcceptDatalossRequest {
  virtual_storage: string;
  relative_path: string;
  authoritative_storage: string;
}

export interface AcceptDatalossResponse {
  repository_id: number;
  generation: number;
}

export interface SetReplicationFactorRequest {
  virtual_storage: string;
  relative_path: string;
  replication_factor: number;
}

export interface SetReplicationFactorResponse {
  repository_id: number;
  assigned: string[];
}

export interface QueueDepth {
  virtual_storage: string;
  target_storage: string;
  state: string;
  count: number;
}

export interface DeadJobs {
  virtual_storage: string;
  target_storage: string;
  count: number;
}

export interface QueueStatusResponse {
  database_up: boolean;
  database_error: string;
  depth: QueueDepth[];
  dead: DeadJobs[];
}

export interface ConfiguredStorage {
  virtual_storage: string;
  storage: string;
  address: string;
  default_replication_factor: number;
  locally_healthy: boolean;
  last_probe_ok: boolean;
  last_probe_error: string;
  last_probe_latency_ms: number;
  healthy: boolean;
}

export interface ListStoragesResponse {
  storages: ConfiguredStorage[];
}

export interface DialResult {
  virtual_storage: string;
  storage: string;
  address: string;
  ok: boolean;
  latency_ms: number;
  error: string;
}

export interface DialNodesResponse {
  router: string;
  nodes: DialResult[];
}

export type MembershipChange = 'add-learner' | 'promote' | 'remove';

export interface ChangeMembershipRequest {
  change: MembershipChange;
  node_id: number;
  raft_address?: string;
}

export interface ChangeMembershipResponse {
  voters: number[];
  learners: number[];
}

export interface TransferLeaderResponse {
  leader: number;
  term: number;
}

export interface TrackRepositoryRequest {
  virtual_storage: string;
  relative_path: string;
  authoritative_storage: string;
  replicate_immediately?: boolean;
}

export interface TrackRepositoryResponse {
  repository_id: number;
  replica_path: string;
  assigned: string[];
}

export interface RemoveRepositoryRequest {
  virtual_storage: string;
  relative_path: string;
  apply?: boolean;
  db_only?: boolean;
}

export interface RemoveRepositoryResponse {
  applied: boolean;
  repository_id: number;
  replica_path: string;
  replicas: string[];
  in_cluster_state: boolean;
  in_database: boolean;
  database_error: string;
}

export interface ListUntrackedRepositoriesRequest {
  virtual_storage?: string;
  older_than_ms?: number;
}

export interface UntrackedRepository {
  virtual_storage: string;
  storage: string;
  relative_path: string;
  modification_time_ms: number;
}

export interface ListUntrackedRepositoriesResponse {
  repositories: UntrackedRepository[];
}

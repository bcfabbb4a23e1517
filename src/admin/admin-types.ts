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

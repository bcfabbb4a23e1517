// The shapes of the decoded messages the node reads and writes (snake_case,
// as in the .proto files; see src/protocol/codec.ts for the conversion).
// Only what handlers touch is spelled out.

export interface RepositoryMsg {
  storage_name: string;
  relative_path: string;
  git_object_directory: string;
  git_alternate_object_directories: string[];
  gl_repository: string;
  gl_project_path: string;
}

export interface TimestampMsg {
  seconds: number;
  nanos: number;
}

export interface CommitAuthorMsg {
  name: Buffer;
  email: Buffer;
  date: TimestampMsg | null;
  timezone: Buffer;
}

export interface CommitTrailerMsg {
  key: Buffer;
  value: Buffer;
}

export type SignatureTypeName = 'NONE' | 'PGP' | 'X509' | 'SSH';

export interface GitCommitMsg {
  id: string;
  subject: Buffer;
  body: Buffer;
  author: CommitAuthorMsg | null;
  committer: CommitAuthorMsg | null;
  parent_ids: string[];
  body_size: number;
  signature_type: SignatureTypeName;
  tree_id: string;
  trailers: CommitTrailerMsg[];
  short_stats: null;
  referenced_by: Buffer[];
  encoding: string;
}

export interface BranchMsg {
  name: Buffer;
  target_commit: GitCommitMsg | null;
}

export interface TagMsg {
  name: Buffer;
  id: string;
  target_commit: GitCommitMsg | null;
  message: Buffer;
  message_size: number;
  tagger: CommitAuthorMsg | null;
  signature_type: SignatureTypeName;
}

export interface UserMsg {
  gl_id: string;
  name: Buffer;
  email: Buffer;
  gl_username: string;
  timezone: string;
}

export interface PaginationMsg {
  page_token: string;
  limit: number;
}

/** A request that names its repository in field 1. */
export interface RepoRequest {
  repository: RepositoryMsg | null;
}

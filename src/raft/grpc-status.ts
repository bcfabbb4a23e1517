import * as grpc from '@grpc/grpc-js';
import { RaftError } from './core/errors.js';

// The one place where Raft's error codes become gRPC status codes.
const STATUS_BY_CODE: Readonly<Record<string, grpc.status>> = {
  RAFT_NOT_LEADER: grpc.status.UNAVAILABLE,
  RAFT_PROPOSAL_DROPPED: grpc.status.UNAVAILABLE,
  RAFT_UNCOMMITTED_LOG_FULL: grpc.status.RESOURCE_EXHAUSTED,
  RAFT_TOO_MANY_PENDING: grpc.status.RESOURCE_EXHAUSTED,
  RAFT_PROPOSAL_TOO_LARGE: grpc.status.INVALID_ARGUMENT,
  RAFT_CONF_CHANGE_REFUSED: grpc.status.FAILED_PRECONDITION,
  RAFT_PROPOSAL_TIMEOUT: grpc.status.DEADLINE_EXCEEDED,
  RAFT_STOPPED: grpc.status.UNAVAILABLE,
};

export function raftErrorStatus(error: unknown): { code: grpc.status; details: string } {
  if (error instanceof RaftError) {
    return { code: STATUS_BY_CODE[error.code] ?? grpc.status.INTERNAL, details: `${error.code}: ${error.message}` };
  }
  return { code: grpc.status.INTERNAL, details: error instanceof Error ? error.message : String(error) };
}

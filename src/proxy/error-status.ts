// The one place where the forwarding layer's errors become gRPC statuses.
// Anything that is not a ProxyError is a bug of ours or of a router: the
// client gets INTERNAL without the message, which may hold internals.
import * as grpc from '@grpc/grpc-js';
import { LocalAnswerError, ProxyError, type ProxyErrorCode } from './errors.js';

const STATUS_OF_CODE: Readonly<Record<ProxyErrorCode, grpc.status>> = {
  PROXY_INVALID_REQUEST: grpc.status.INVALID_ARGUMENT,
  PROXY_OVERLOADED: grpc.status.RESOURCE_EXHAUSTED,
  PROXY_MESSAGE_TOO_LARGE: grpc.status.RESOURCE_EXHAUSTED,
  // The gRPC compression spec's answer to an unknown algorithm.
  PROXY_UNSUPPORTED_ENCODING: grpc.status.UNIMPLEMENTED,
  // Carries its own status (statusOfError); this is only the table's entry.
  PROXY_LOCAL_ANSWER: grpc.status.UNKNOWN,
  ROUTE_NOT_FOUND: grpc.status.NOT_FOUND,
  ROUTE_ALREADY_EXISTS: grpc.status.ALREADY_EXISTS,
  ROUTE_READ_ONLY: grpc.status.FAILED_PRECONDITION,
  ROUTE_UNAVAILABLE: grpc.status.UNAVAILABLE,
  ROUTE_ABORTED: grpc.status.ABORTED,
  ROUTE_INVALID: grpc.status.INVALID_ARGUMENT,
  ROUTE_OVERLOADED: grpc.status.RESOURCE_EXHAUSTED,
  ROUTE_DEADLINE: grpc.status.DEADLINE_EXCEEDED,
};

export function grpcStatusOf(code: ProxyErrorCode): grpc.status {
  return STATUS_OF_CODE[code];
}

/** The status a client gets for a failure of ours. */
export function statusOfError(error: unknown): grpc.StatusObject {
  if (error instanceof LocalAnswerError) return { code: error.grpcCode, details: error.message, metadata: new grpc.Metadata() };
  if (error instanceof ProxyError) {
    return { code: grpcStatusOf(error.code), details: error.message, metadata: new grpc.Metadata() };
  }
  return { code: grpc.status.INTERNAL, details: 'internal error in the router', metadata: new grpc.Metadata() };
}

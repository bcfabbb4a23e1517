// The storage node's errors. Each class has a stable code; toServiceError is
// the one place where codes become gRPC statuses.
import * as grpc from '@grpc/grpc-js';

export type ErrorCode =
  | 'invalid_argument'
  | 'not_found'
  | 'already_exists'
  | 'failed_precondition'
  | 'aborted'
  | 'resource_exhausted'
  | 'deadline_exceeded'
  | 'cancelled'
  | 'unavailable'
  | 'data_loss'
  | 'internal';

export class GitalyError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class InvalidArgumentError extends GitalyError {
  constructor(message: string) {
    super('invalid_argument', message);
  }
}

export class NotFoundError extends GitalyError {
  constructor(message: string) {
    super('not_found', message);
  }
}

export class AlreadyExistsError extends GitalyError {
  constructor(message: string) {
    super('already_exists', message);
  }
}

export class FailedPreconditionError extends GitalyError {
  constructor(message: string) {
    super('failed_precondition', message);
  }
}

/** A lock held by someone else, or a compare-and-set lost: retry. */
export class AbortedError extends GitalyError {
  constructor(message: string) {
    super('aborted', message);
  }
}

export class ResourceExhaustedError extends GitalyError {
  constructor(message: string) {
    super('resource_exhausted', message);
  }
}

export class DeadlineExceededError extends GitalyError {
  constructor(message: string) {
    super('deadline_exceeded', message);
  }
}

export class CancelledError extends GitalyError {
  constructor(message: string) {
    super('cancelled', message);
  }
}

export class UnavailableError extends GitalyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('unavailable', message, options);
  }
}

export class DataLossError extends GitalyError {
  constructor(message: string) {
    super('data_loss', message);
  }
}

export class InternalError extends GitalyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('internal', message, options);
  }
}

const GRPC_STATUS: Record<ErrorCode, grpc.status> = {
  invalid_argument: grpc.status.INVALID_ARGUMENT,
  not_found: grpc.status.NOT_FOUND,
  already_exists: grpc.status.ALREADY_EXISTS,
  failed_precondition: grpc.status.FAILED_PRECONDITION,
  aborted: grpc.status.ABORTED,
  resource_exhausted: grpc.status.RESOURCE_EXHAUSTED,
  deadline_exceeded: grpc.status.DEADLINE_EXCEEDED,
  cancelled: grpc.status.CANCELLED,
  unavailable: grpc.status.UNAVAILABLE,
  data_loss: grpc.status.DATA_LOSS,
  internal: grpc.status.INTERNAL,
};

export function grpcStatusOf(code: ErrorCode): grpc.status {
  return GRPC_STATUS[code];
}

/** Any thrown value as the error a handler reports; unknown errors are INTERNAL. */
export function toServiceError(error: unknown): grpc.ServerErrorResponse {
  if (isServiceError(error)) return error;
  const gitalyError = error instanceof GitalyError ? error : new InternalError(messageOf(error), { cause: error });
  const code = grpcStatusOf(gitalyError.code);
  return Object.assign(new Error(gitalyError.message), { code, details: gitalyError.message });
}

/** An error that already carries a gRPC status, e.g. from an upstream call. */
function isServiceError(error: unknown): error is grpc.ServerErrorResponse {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'number' && 'details' in error;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

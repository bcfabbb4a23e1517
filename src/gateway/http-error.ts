// Every refusal the gateway makes is an HttpError: a status and a plain-text
// message. Git prints text/plain bodies of failed info/refs requests to the
// user, so the message is written for a person at a terminal.
import * as grpc from '@grpc/grpc-js';

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

const HTTP_STATUS_BY_GRPC_CODE: ReadonlyMap<grpc.status, number> = new Map([
  [grpc.status.NOT_FOUND, 404],
  [grpc.status.UNAUTHENTICATED, 401],
  [grpc.status.PERMISSION_DENIED, 403],
  [grpc.status.INVALID_ARGUMENT, 400],
  [grpc.status.RESOURCE_EXHAUSTED, 429],
  [grpc.status.UNAVAILABLE, 503],
  [grpc.status.DEADLINE_EXCEEDED, 504],
]);

export function httpStatusForGrpcCode(code: grpc.status): number {
  return HTTP_STATUS_BY_GRPC_CODE.get(code) ?? 500;
}

function isGrpcError(error: unknown): error is grpc.ServiceError {
  return error instanceof Error && typeof (error as Partial<grpc.ServiceError>).code === 'number' && 'metadata' in error;
}

/** Turns whatever a handler threw into the HttpError to answer with. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (isGrpcError(error)) {
    const statusCode = httpStatusForGrpcCode(error.code);
    const name = grpc.status[error.code] ?? `code ${error.code}`;
    const details = error.details.length > 0 ? error.details : 'no details';
    const headers: Record<string, string> = statusCode === 429 || statusCode === 503 ? { 'Retry-After': '1' } : {};
    return new HttpError(statusCode, `${name}: ${details}`, headers);
  }
  return new HttpError(500, 'internal gateway error');
}

// Why the admin service refused a request, with the gRPC status it answers
// and a message that names the field at fault.
import * as grpc from '@grpc/grpc-js';

export type AdminErrorCode = 'INVALID_ARGUMENT' | 'NOT_FOUND' | 'ALREADY_EXISTS' | 'FAILED_PRECONDITION' | 'UNAVAILABLE' | 'DEADLINE_EXCEEDED';

export class AdminRequestError extends Error {
  constructor(
    readonly code: AdminErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AdminRequestError';
  }

  get grpcCode(): grpc.status {
    return grpc.status[this.code];
  }
}

/** The field's value, or INVALID_ARGUMENT naming it. */
export function requireField(value: string | undefined, field: string): string {
  if (value === undefined || value === '') throw new AdminRequestError('INVALID_ARGUMENT', `${field}: must be set`);
  return value;
}

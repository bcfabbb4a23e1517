/**
 * Errors of the forwarding layer, with stable codes. Callers branch on `code`,
 * never on message text; error-status.ts is the one place where codes become
 * gRPC statuses.
 */
export abstract class ProxyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
  abstract readonly code: ProxyErrorCode;
}

export type ProxyErrorCode =
  | 'PROXY_INVALID_REQUEST'
  | 'PROXY_OVERLOADED'
  | 'PROXY_MESSAGE_TOO_LARGE'
  | 'PROXY_UNSUPPORTED_ENCODING'
  | 'PROXY_LOCAL_ANSWER'
  | RoutingErrorCode;

/** The request cannot be forwarded as sent; `field` names what is wrong (e.g. `repository.relative_path`). */
export class InvalidRequestError extends ProxyError {
  readonly code = 'PROXY_INVALID_REQUEST';
  constructor(
    readonly field: string,
    readonly detail: string,
  ) {
    super(`${field}: ${detail}`);
  }
}

/** Too many calls in flight, for the whole router or for one repository. */
export class OverloadedError extends ProxyError {
  readonly code = 'PROXY_OVERLOADED';
  constructor(
    readonly scope: 'router' | 'repository',
    readonly limit: number,
  ) {
    super(scope === 'router' ? `too many calls in flight (limit ${limit})` : `too many calls in flight for this repository (limit ${limit})`);
  }
}

/** A message longer than the configured bound. */
export class MessageTooLargeError extends ProxyError {
  readonly code = 'PROXY_MESSAGE_TOO_LARGE';
  constructor(
    readonly sizeBytes: number,
    readonly limitBytes: number,
  ) {
    super(`message of ${sizeBytes} bytes is larger than the limit of ${limitBytes} bytes`);
  }
}

/** A first message compressed with an algorithm the router cannot read. */
export class UnsupportedEncodingError extends ProxyError {
  readonly code = 'PROXY_UNSUPPORTED_ENCODING';
  constructor(readonly encoding: string) {
    super(`the first message is compressed with "${encoding}", which the router does not support`);
  }
}

/** A call the process answers itself (a vote) was refused by its answerer, with that answerer's gRPC status. */
export class LocalAnswerError extends ProxyError {
  readonly code = 'PROXY_LOCAL_ANSWER';
  constructor(
    readonly grpcCode: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Why a Router (or a route's onFinish) refused a call. The codes and the
 * statuses they become:
 *   ROUTE_NOT_FOUND        NOT_FOUND            the repository does not exist
 *   ROUTE_ALREADY_EXISTS   ALREADY_EXISTS       creation of an existing repository
 *   ROUTE_READ_ONLY        FAILED_PRECONDITION  no up-to-date primary: "repository is in read-only mode"
 *   ROUTE_UNAVAILABLE      UNAVAILABLE          no healthy node, no quorum, catalogue down
 *   ROUTE_ABORTED          ABORTED              a failover raced the write; retry
 *   ROUTE_INVALID          INVALID_ARGUMENT     the router found the request wrong
 *   ROUTE_OVERLOADED       RESOURCE_EXHAUSTED   the router sheds load
 *   ROUTE_DEADLINE         DEADLINE_EXCEEDED    routing did not finish in time
 */
export type RoutingErrorCode =
  | 'ROUTE_NOT_FOUND'
  | 'ROUTE_ALREADY_EXISTS'
  | 'ROUTE_READ_ONLY'
  | 'ROUTE_UNAVAILABLE'
  | 'ROUTE_ABORTED'
  | 'ROUTE_INVALID'
  | 'ROUTE_OVERLOADED'
  | 'ROUTE_DEADLINE';

export class RoutingError extends ProxyError {
  constructor(
    readonly code: RoutingErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

// Server side of the v2 token: check a call's metadata, count the attempt
// with upstream's labels, and fail it with UNAUTHENTICATED.
import * as grpc from '@grpc/grpc-js';
import type { AuthObserver, AuthStatusLabel } from './auth-counter.js';
import { systemClockSec, type ClockSec } from './clock.js';
import { AUTHORIZATION_METADATA_KEY } from './grpc-client-auth.js';
import { checkV2Token, type V2TokenCheck } from './v2-token.js';

export interface ServerAuthOptions {
  /** The shared secret; empty or undefined disables authentication. */
  token: string | undefined;
  /** Upstream's `[auth] transitioning`: count failures but let the calls through. */
  transitioning?: boolean;
  clock?: ClockSec;
  observe?: AuthObserver;
}

/** Returns null when the call may proceed, else the error to fail it with. */
export function authenticateMetadata(metadata: grpc.Metadata, options: ServerAuthOptions): grpc.ServerErrorResponse | null {
  const enforced = options.transitioning !== true;
  const observe = options.observe ?? (() => undefined);
  if (options.token === undefined || options.token.length === 0) {
    observe({ enforced, status: 'server disabled authentication' });
    return null;
  }
  const check = checkHeaderValues(metadata.get(AUTHORIZATION_METADATA_KEY), options.token, (options.clock ?? systemClockSec)());
  if (check.ok) {
    observe({ enforced, status: enforced ? 'ok' : 'would be ok' });
    return null;
  }
  const label = failureLabel(check.reason);
  observe({ enforced, status: label });
  if (!enforced) return null;
  const details = `authentication failed: ${check.reason}: ${check.detail}`;
  return label === 'denied' ? permissionDenied(details) : unauthenticated(details);
}

function checkHeaderValues(values: grpc.MetadataValue[], secret: string, nowSec: number): V2TokenCheck {
  if (values.length > 1) return { ok: false, reason: 'malformed', detail: 'more than one authorization entry' };
  const value = values[0];
  if (value !== undefined && typeof value !== 'string') {
    return { ok: false, reason: 'malformed', detail: 'the authorization entry is binary' };
  }
  return checkV2Token(value, secret, nowSec);
}

// Upstream counts a missing or unparsable token as "unauthenticated" and a
// well-formed but wrong or stale one as "denied".
function failureLabel(reason: Exclude<V2TokenCheck, { ok: true }>['reason']): AuthStatusLabel {
  return reason === 'missing' || reason === 'malformed' ? 'unauthenticated' : 'denied';
}

/** Upstream's code for a well-formed token that is wrong or stale. */
export function permissionDenied(details: string): grpc.ServerErrorResponse {
  return Object.assign(new Error(details), { code: grpc.status.PERMISSION_DENIED, details });
}

export function unauthenticated(details: string): grpc.ServerErrorResponse {
  return Object.assign(new Error(details), { code: grpc.status.UNAUTHENTICATED, details });
}

/**
 * Wraps every handler of a service implementation so it runs only after the
 * call's metadata passes authenticateMetadata. Handlers not in the
 * definition are left as they are.
 */
export function guardService<I extends grpc.UntypedServiceImplementation>(
  definition: grpc.ServiceDefinition,
  implementation: I,
  options: ServerAuthOptions,
): I {
  const guarded: grpc.UntypedServiceImplementation = { ...implementation };
  for (const [name, method] of Object.entries(definition)) {
    for (const key of new Set([name, method.originalName ?? name])) {
      const handler = implementation[key];
      if (handler !== undefined) guarded[key] = guardHandler(method, handler, options);
    }
  }
  return guarded as I;
}

type AnyCall = { metadata: grpc.Metadata; emit(event: 'error', error: grpc.ServerErrorResponse): boolean };
type AnyHandler = (call: AnyCall, callback?: (error: grpc.ServerErrorResponse) => void) => void;

function guardHandler(
  method: grpc.MethodDefinition<unknown, unknown>,
  handler: grpc.UntypedHandleCall,
  options: ServerAuthOptions,
): grpc.UntypedHandleCall {
  const inner = handler as unknown as AnyHandler;
  // Unary and client-streaming calls answer through the callback; the
  // others through the stream's 'error' event.
  const usesCallback = !method.responseStream;
  const wrapped: AnyHandler = (call, callback) => {
    const error = authenticateMetadata(call.metadata, options);
    if (error === null) return inner(call, callback);
    if (usesCallback && callback !== undefined) return callback(error);
    call.emit('error', error);
  };
  return wrapped as unknown as grpc.UntypedHandleCall;
}

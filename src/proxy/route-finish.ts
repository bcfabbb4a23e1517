// When a route's onFinish runs relative to the client's answer. Mutators and
// maintenance calls wait for it (the router records the write in Raft before
// the client may see success); accessors never wait, so routes of reads pay
// nothing for the hook.
import type * as grpc from '@grpc/grpc-js';
import { Metadata, status as grpcStatus } from '@grpc/grpc-js';
import type { MethodInfo } from '../protocol/index.js';
import { ProxyError } from './errors.js';
import { statusOfError } from './error-status.js';
import type { Route } from './route.js';

export interface FinishPolicy {
  /** The final status waits for onFinish. */
  holdsStatus: boolean;
  /** Response messages wait too (unary and client-streaming responses: one message). */
  holdsMessages: boolean;
}

const NO_HOLD: FinishPolicy = { holdsStatus: false, holdsMessages: false };

export function finishPolicy(method: MethodInfo, route: Route): FinishPolicy {
  if (route.onFinish === undefined || method.operation === 'accessor') return NO_HOLD;
  return { holdsStatus: true, holdsMessages: method.streaming === 'unary' || method.streaming === 'clientStream' };
}

/**
 * Runs onFinish and resolves with the status the client must get: the
 * node's, or the error onFinish rejected with.
 */
export async function settleHeld(
  route: Route,
  status: grpc.StatusObject,
  report: (error: unknown) => void,
  secondaries?: ReadonlyMap<string, grpc.StatusObject>,
): Promise<grpc.StatusObject> {
  try {
    await route.onFinish?.(status, secondaries);
    return status;
  } catch (error) {
    if (!(error instanceof ProxyError)) report(error);
    return statusOfError(error);
  }
}

/** Runs onFinish without anyone waiting; a failure goes to `report`. */
export function finishQuietly(route: Route, status: grpc.StatusObject, report?: (error: unknown) => void): void {
  if (route.onFinish === undefined) return;
  try {
    const result = route.onFinish(status);
    if (result !== undefined) result.catch((error: unknown) => report?.(error));
  } catch (error) {
    report?.(error);
  }
}

/**
 * For a transport that does not fan out: every secondary of the route is
 * reported failed before the call starts, so a transaction waiting for its
 * votes settles on the primary and the secondaries get replication jobs.
 */
export function refuseFanOut(route: Route): ReadonlyMap<string, grpc.StatusObject> | undefined {
  const fanOut = route.fanOut;
  if (fanOut === undefined) return undefined;
  const statuses = new Map<string, grpc.StatusObject>();
  for (const secondary of fanOut.secondaries) {
    const status = { code: grpcStatus.UNIMPLEMENTED, details: 'not sent: this transport does not fan out', metadata: new Metadata() };
    statuses.set(secondary.name, status);
    fanOut.onNodeEnd?.(secondary.name, status);
  }
  return statuses;
}

// Everything that happens between a call's first message and the moment it
// can be sent on: read the repository, take the in-flight slots, ask the
// router, write the physical names in. Shared by every transport.
import type * as grpc from '@grpc/grpc-js';
import type { MethodInfo } from '../protocol/index.js';
import type { FirstMessageCodec, RequestFacts } from './first-message.js';
import type { InFlightLimiter, Release } from './inflight-limiter.js';
import { finishQuietly } from './route-finish.js';
import type { Route, RouteRequest, Router } from './route.js';
import { statusOfError } from './error-status.js';

export interface PlanContext {
  codec: FirstMessageCodec;
  router: Router;
  limiter: InFlightLimiter;
}

export interface CallPlan {
  route: Route;
  /** The first message as the node must see it. */
  firstMessage: Uint8Array;
  /** Gives the repository's in-flight slot back. */
  release: Release;
}

/**
 * Rejects with a ProxyError (or the router's error) and holds no slot then.
 * `metadata` is built only if the router reads it.
 */
export async function planCall(ctx: PlanContext, method: MethodInfo, first: Uint8Array, metadata: () => grpc.Metadata): Promise<CallPlan> {
  const facts = ctx.codec.read(method, first);
  const release = ctx.limiter.acquireRepository(repositoryKey(facts));
  let route: Route;
  try {
    route = await ctx.router(routeRequest(method, metadata, facts));
  } catch (error) {
    release();
    throw error;
  }
  try {
    return { route, firstMessage: ctx.codec.rewrite(method, first, route), release };
  } catch (error) {
    release();
    finishQuietly(route, statusOfError(error));
    throw error;
  }
}

function routeRequest(method: MethodInfo, metadata: () => grpc.Metadata, facts: RequestFacts): RouteRequest {
  let built: grpc.Metadata | undefined;
  return {
    method,
    ...facts,
    get metadata(): grpc.Metadata {
      built ??= metadata();
      return built;
    },
  };
}

// NUL cannot occur in a validated name, so it separates the parts safely.
function repositoryKey(facts: RequestFacts): string {
  if (facts.repository !== undefined) return `${facts.repository.storage_name}\0${facts.repository.relative_path}`;
  return `${facts.storage ?? ''}\0`;
}

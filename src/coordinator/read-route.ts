// Accessors (DESIGN §7): any healthy replica on the latest generation that
// this router can reach, chosen at random to spread reads; the primary only
// when the client asks for it.
import type * as grpc from '@grpc/grpc-js';
import type { RepositoryView } from '../cluster/index.js';
import { RoutingError, type Route, type RouteRequest } from '../proxy/index.js';
import { primaryOnly, type RouteContext } from './route-context.js';

export function readRoute(ctx: RouteContext, request: RouteRequest, repository: RepositoryView): Route {
  const upToDate = ctx.view.upToDateHealthyReplicas(repository.repositoryId).filter((s) => ctx.reachable(repository.virtualStorage, s));
  const storage = primaryOnly(request.metadata) ? primaryCandidate(repository, upToDate) : ctx.pick(settledFirst(repository, upToDate));
  if (storage === undefined) {
    throw new RoutingError(
      'ROUTE_UNAVAILABLE',
      `no healthy replica on the latest generation of ${repository.virtualStorage}/${repository.relativePath} is reachable from this router`,
    );
  }
  return ctx.routeTo(repository, storage, {
    onFinish: (status: grpc.StatusObject) => ctx.observe(repository, storage, 'read', status),
  });
}

function primaryCandidate(repository: RepositoryView, candidates: readonly string[]): string {
  if (repository.primary !== null && candidates.includes(repository.primary)) return repository.primary;
  throw new RoutingError(
    'ROUTE_UNAVAILABLE',
    `the primary of ${repository.virtualStorage}/${repository.relativePath} (${repository.primary ?? 'none'}) is not healthy and up to date; primary-only reads cannot be served`,
  );
}

/**
 * A replica with a write in flight (an outstanding intent) may already show
 * it while the others do not; reading it and then another replica could see
 * the write appear and vanish. So reads prefer replicas without one, and use
 * those with one only when no other is up to date (then that single copy
 * changes monotonically).
 */
function settledFirst(repository: RepositoryView, candidates: readonly string[]): string[] {
  const writing = new Set(repository.writeIntents.map((intent) => intent.storage));
  const settled = candidates.filter((s) => !writing.has(s));
  return settled.length > 0 ? settled : [...candidates];
}

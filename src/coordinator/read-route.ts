// Accessors (DESIGN §7): any healthy replica on the latest generation that
// this router can reach, chosen at random to spread reads; the primary only
// when the client asks for it.
import type * as grpc from '@grpc/grpc-js';
import type { RepositoryView } from '../cluster/index.js';
import { RoutingError, type Route, type RouteRequest } from '../proxy/index.js';
import { primaryOnly, type RouteContext } from './route-context.js';

export function readRoute(ctx: RouteContext, request: RouteRequest, repository: RepositoryView): Route {
  const candidates = ctx.view.upToDateHealthyReplicas(repository.repositoryId).filter((s) => ctx.reachable(repository.virtualStorage, s));
  const storage = primaryOnly(request.metadata) ? primaryCandidate(repository, candidates) : ctx.pick(candidates);
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

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
 * While a write is in flight (an outstanding intent) the replicas that take
 * it may show it at different moments: the primary, and with reference
 * transactions every secondary that votes. Reading one that has it and then
 * one that has not yet would see the write appear and vanish. So during a
 * write reads go to the primary alone, whose copy changes once; only when it
 * cannot serve do they go to the replicas no intent names.
 */
function settledFirst(repository: RepositoryView, candidates: readonly string[]): string[] {
  if (repository.writeIntents.length === 0) return [...candidates];
  if (repository.primary !== null && candidates.includes(repository.primary)) return [repository.primary];
  const writing = new Set(repository.writeIntents.map((intent) => intent.storage));
  const settled = candidates.filter((s) => !writing.has(s));
  return settled.length > 0 ? settled : [...candidates];
}

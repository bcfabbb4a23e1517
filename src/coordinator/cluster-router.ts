// The Router the forwarder asks for every call (DESIGN §7): repository calls
// by their operation, storage-scoped accessors to any healthy node.
import { RoutingError, type RepositoryRef, type Route, type RouteRequest, type Router } from '../proxy/index.js';
import { gitalyProtocol } from '../protocol/index.js';
import { createRoute } from './create-route.js';
import { assertTransactionsClassified } from './transactional-methods.js';
import { readRoute } from './read-route.js';
import { removeRoute } from './remove-route.js';
import { RouteContext, routeTarget } from './route-context.js';
import type { ClusterRouterOptions } from './router-deps.js';
import { maintenanceRoute, mutatorRoute } from './write-route.js';

/** Methods that bring a repository into existence: routed by placement, recorded in Raft when they succeed. */
export const CREATING_METHODS: ReadonlySet<string> = new Set([
  '/gitaly.RepositoryService/CreateRepository',
  '/gitaly.RepositoryService/CreateRepositoryFromBundle',
]);

export const REMOVING_METHODS: ReadonlySet<string> = new Set(['/gitaly.RepositoryService/RemoveRepository']);

export function createClusterRouter(options: ClusterRouterOptions): Router {
  // Startup fails, rather than a write later, when a mutator's voting is not decided.
  assertTransactionsClassified(gitalyProtocol().registry);
  const ctx = new RouteContext(options);
  return async (request) => {
    if (request.method.scope === 'storage') return storageRoute(ctx, request);
    const ref = request.repository;
    if (ref === undefined) throw new RoutingError('ROUTE_INVALID', `${request.method.path} names no repository`);
    ctx.checkVirtualStorage(ref);
    const freshness = await ctx.freshen(request.method.operation === 'accessor');
    const route = withAdditional(ctx, request, await repositoryRoute(ctx, request, ref));
    return freshness === 'stale' ? { ...route, responseMetadata: { ...route.responseMetadata, [STALE_READ_METADATA_KEY]: 'stale' } } : route;
  };
}

/**
 * Response metadata on a read served from this router's own state because
 * no quorum confirmed it: it may miss writes acknowledged through other
 * routers (DESIGN §12, majority of routers down). Reads without it are
 * linearizable.
 */
export const STALE_READ_METADATA_KEY = 'praefect-read-consistency';

async function repositoryRoute(ctx: RouteContext, request: RouteRequest, ref: RepositoryRef): Promise<Route> {
  const path = request.method.path;
  const id = ctx.view.repositoryId(ref.storage_name, ref.relative_path);
  if (CREATING_METHODS.has(path)) {
    if (id !== undefined) throw new RoutingError('ROUTE_ALREADY_EXISTS', `repository already exists: ${ref.storage_name}/${ref.relative_path}`);
    return createRoute(ctx, ref);
  }
  const repository = ctx.repository(ref);
  if (REMOVING_METHODS.has(path)) return removeRoute(ctx, repository.repositoryId);
  switch (request.method.operation) {
    case 'accessor':
      return readRoute(ctx, request, repository);
    case 'mutator':
      return mutatorRoute(ctx, repository.repositoryId, path);
    case 'maintenance':
      return maintenanceRoute(ctx, repository.repositoryId);
  }
}

/** A second repository (e.g. a source) is read on the same node, at its own replica path. */
function withAdditional(ctx: RouteContext, request: RouteRequest, route: Route): Route {
  const extra = request.additionalRepository;
  if (extra === undefined || route.rewrite === undefined) return route;
  const id = ctx.view.repositoryId(extra.storage_name, extra.relative_path);
  const repository = id === undefined ? undefined : ctx.view.repository(id);
  if (repository === undefined) return route;
  return { ...route, additionalRewrite: { storageName: route.rewrite.storageName, relativePath: repository.replicaPath } };
}

/** Storage-scoped calls name a virtual storage: any node of it that is healthy and reachable serves. */
function storageRoute(ctx: RouteContext, request: RouteRequest): Route {
  const virtualStorage = request.storage ?? '';
  if (!ctx.options.nodes.has(virtualStorage)) throw new RoutingError('ROUTE_INVALID', `storage_name: virtual storage "${virtualStorage}" is not configured`);
  const usable = ctx.options.nodes.nodes(virtualStorage).filter((n) => ctx.view.isHealthy(virtualStorage, n.storage) && ctx.reachable(virtualStorage, n.storage));
  const node = ctx.pick(usable);
  if (node === undefined) throw new RoutingError('ROUTE_UNAVAILABLE', `no storage of virtual storage "${virtualStorage}" is healthy and reachable`);
  return { target: routeTarget(node), storageRewrite: node.storage };
}

// Repository creation (DESIGN §7): the id comes from PostgreSQL, the primary
// and assignments follow the virtual storage's replication factor, and the
// repository exists for the cluster once Raft records it, after the primary
// created it. With strong consistency the healthy assigned secondaries create
// it in the same call and start on generation 0 with the primary, so a new
// repository survives its primary's failure at once; the others (and every
// secondary in async mode) get it by replication.
import * as grpc from '@grpc/grpc-js';
import type { RepositoryView } from '../cluster/index.js';
import { RepositoryExistsError } from '../db/index.js';
import { RoutingError, type FanOut, type RepositoryRef, type Route } from '../proxy/index.js';
import { enqueueAll, updateJob } from './replication-jobs.js';
import { describe, type RouteContext } from './route-context.js';

interface Placement {
  primary: string;
  assigned: string[];
}

export async function createRoute(ctx: RouteContext, ref: RepositoryRef): Promise<Route> {
  const catalogue = ctx.options.catalogue;
  if (catalogue === undefined) throw new RoutingError('ROUTE_UNAVAILABLE', 'repositories cannot be created: this router has no database configured');
  const placement = place(ctx, ref.storage_name);
  let created: { repositoryId: number; replicaPath: string };
  try {
    created = await catalogue.create(ref.storage_name, ref.relative_path);
  } catch (error) {
    if (error instanceof RepositoryExistsError) throw new RoutingError('ROUTE_ALREADY_EXISTS', `repository already exists: ${ref.storage_name}/${ref.relative_path}`);
    throw new RoutingError('ROUTE_UNAVAILABLE', `repositories cannot be created while the database is unavailable: ${describe(error)}`, { cause: error });
  }
  const repository: RepositoryView = {
    repositoryId: created.repositoryId,
    virtualStorage: ref.storage_name,
    relativePath: ref.relative_path,
    replicaPath: created.replicaPath,
    primary: placement.primary,
    assigned: placement.assigned,
    generations: {},
    latestGeneration: 0,
    writeIntents: [],
  };
  const secondaries = creatingSecondaries(ctx, repository, placement);
  return ctx.routeTo(repository, placement.primary, {
    ...(secondaries === undefined ? {} : { fanOut: secondaries }),
    onFinish: (status, statuses) => finishCreate(ctx, repository, placement, status, statuses),
  });
}

/** The assigned secondaries that take the creation with the primary: healthy and reachable ones, in strong-consistency mode. */
function creatingSecondaries(ctx: RouteContext, repository: RepositoryView, placement: Placement): FanOut | undefined {
  const tx = ctx.options.transactions;
  if (tx === undefined) return undefined;
  const names = placement.assigned.filter((s) => s !== placement.primary && ctx.view.isHealthy(repository.virtualStorage, s) && ctx.reachable(repository.virtualStorage, s));
  if (names.length === 0) return undefined;
  return {
    primary: placement.primary,
    secondaries: names.map((name) => ({ name, ...ctx.routeTo(repository, name) })),
    settleMs: tx.settleMs,
    maxBufferedBytes: tx.maxBufferedBytes,
  };
}

/** A random healthy, reachable primary; then assignments up to the replication factor (0: every node). */
function place(ctx: RouteContext, virtualStorage: string): Placement {
  const order = ctx.options.nodes.storages(virtualStorage);
  const usable = order.filter((s) => ctx.view.isHealthy(virtualStorage, s) && ctx.reachable(virtualStorage, s));
  const primary = ctx.pick(usable);
  if (primary === undefined) throw new RoutingError('ROUTE_UNAVAILABLE', `no storage of virtual storage "${virtualStorage}" is healthy and reachable; cannot create a repository`);
  const factor = ctx.options.nodes.defaultReplicationFactor(virtualStorage);
  if (factor === 0 || factor >= order.length) return { primary, assigned: order };
  const rest = shuffle(ctx, order.filter((s) => s !== primary));
  // Healthy storages first, so the new replicas can be made at once.
  rest.sort((a, b) => Number(usable.includes(b)) - Number(usable.includes(a)));
  return { primary, assigned: [primary, ...rest.slice(0, factor - 1)] };
}

function shuffle<T>(ctx: RouteContext, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(ctx.random() * (i + 1)) % (i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

async function finishCreate(
  ctx: RouteContext,
  repository: RepositoryView,
  placement: Placement,
  status: grpc.StatusObject,
  secondaries: ReadonlyMap<string, grpc.StatusObject> = new Map(),
): Promise<void> {
  ctx.observe(repository, placement.primary, 'write', status);
  for (const [storage, secondaryStatus] of secondaries) ctx.observe(repository, storage, 'write', secondaryStatus);
  const createdSecondaries = [...secondaries].filter(([, s]) => s.code === grpc.status.OK).map(([storage]) => storage);
  if (status.code !== grpc.status.OK) {
    ctx.background('forgetting a failed creation in the database', () => forget(ctx, repository));
    return;
  }
  const result = await ctx.propose(
    {
      type: 'create-repository',
      repositoryId: repository.repositoryId,
      virtualStorage: repository.virtualStorage,
      relativePath: repository.relativePath,
      replicaPath: repository.replicaPath,
      primary: placement.primary,
      assigned: placement.assigned,
      updatedSecondaries: createdSecondaries,
    },
    `the repository ${repository.virtualStorage}/${repository.relativePath} was created on ${placement.primary} but its record`,
  );
  if (result.status !== 'ok') throw new RoutingError('ROUTE_ALREADY_EXISTS', `repository already exists: ${repository.virtualStorage}/${repository.relativePath}`);
  const created = new Set([placement.primary, ...createdSecondaries]);
  const others = placement.assigned.filter((s) => !created.has(s));
  enqueueAll(ctx, others.map((s) => updateJob(repository, placement.primary, s)));
}

function forget(ctx: RouteContext, repository: RepositoryView): Promise<void> {
  return ctx.options.catalogue?.delete(repository.virtualStorage, repository.relativePath) ?? Promise.resolve();
}

// Mutators (DESIGN §7, §10): to the primary, electing one first when the
// primary is not healthy by quorum. A write intent is recorded before the
// call is forwarded; the generation bump, a compare-and-set on the primary
// and generation the call was routed with, commits before the client hears
// success, and clears the intent.
import * as grpc from '@grpc/grpc-js';
import type { RepositoryView, WriteRoute } from '../cluster/index.js';
import { RoutingError, type Route } from '../proxy/index.js';
import { enqueueAll, expectedStorages, updateJob } from './replication-jobs.js';
import type { RouteContext } from './route-context.js';

/** Election and intent races resolved by re-reading the state; bounded so a flapping cluster fails the call instead of spinning. */
const MAX_ROUTE_ATTEMPTS = 3;

export interface WriteTarget {
  repository: RepositoryView;
  primary: string;
  generation: number;
}

/** The primary a write goes to now, electing one if needed. */
export async function writeTarget(ctx: RouteContext, repositoryId: number): Promise<WriteTarget> {
  for (let attempt = 1; ; attempt++) {
    const repository = ctx.view.repository(repositoryId);
    if (repository === undefined) throw new RoutingError('ROUTE_NOT_FOUND', `repository ${repositoryId} was deleted`);
    const route = ctx.view.writeRoute(repositoryId, ctx.options.nodes.storages(repository.virtualStorage));
    if (route === undefined) throw new RoutingError('ROUTE_NOT_FOUND', `repository ${repositoryId} was deleted`);
    if (route.kind === 'primary') return checkedPrimary(ctx, repository, route.primary, route.generation);
    refuseUnwritable(repository, route);
    if (attempt >= MAX_ROUTE_ATTEMPTS) throw new RoutingError('ROUTE_UNAVAILABLE', `no primary could be elected for ${describeRepo(repository)} after ${attempt} attempts`);
    await elect(ctx, repository, route.currentPrimary);
  }
}

function checkedPrimary(ctx: RouteContext, repository: RepositoryView, primary: string, generation: number): WriteTarget {
  if (!ctx.reachable(repository.virtualStorage, primary)) {
    throw new RoutingError('ROUTE_UNAVAILABLE', `the primary ${primary} of ${describeRepo(repository)} is healthy by quorum but not reachable from this router`);
  }
  return { repository, primary, generation };
}

function refuseUnwritable(repository: RepositoryView, route: Exclude<WriteRoute, { kind: 'primary' }>): void {
  if (route.kind === 'read-only') throw new RoutingError('ROUTE_READ_ONLY', `repository is in read-only mode: ${route.reason}`);
  if (route.kind === 'unavailable') throw new RoutingError('ROUTE_UNAVAILABLE', `${describeRepo(repository)} is unavailable: ${route.reason}`);
}

async function elect(ctx: RouteContext, repository: RepositoryView, expectedPrimary: string | null): Promise<void> {
  const result = await ctx.propose(
    {
      type: 'elect-primary',
      repositoryId: repository.repositoryId,
      expectedPrimary,
      storageOrder: ctx.options.nodes.storages(repository.virtualStorage),
    },
    `electing a primary for ${describeRepo(repository)}`,
  );
  if (result.status === 'ok' && result.changed) {
    ctx.options.logger?.info(
      { virtual_storage: repository.virtualStorage, relative_path: repository.relativePath, previous_primary: result.previous, current_primary: result.primary },
      'primary node changed',
    );
    ctx.options.onPrimaryChanged?.({ virtualStorage: repository.virtualStorage, relativePath: repository.relativePath, previous: result.previous, current: result.primary });
  }
}

/** Maintenance goes to the primary and changes no generation (housekeeping does not change what a replica holds). */
export async function maintenanceRoute(ctx: RouteContext, repositoryId: number): Promise<Route> {
  const target = await writeTarget(ctx, repositoryId);
  return ctx.routeTo(target.repository, target.primary, { onFinish: (status) => ctx.observe(target.repository, target.primary, 'write', status) });
}

/** The route of a mutator: intent first, then the call, then the bump. */
export async function mutatorRoute(ctx: RouteContext, repositoryId: number): Promise<Route> {
  for (let attempt = 1; ; attempt++) {
    const target = await writeTarget(ctx, repositoryId);
    const intentId = ctx.options.writeIntents === false ? null : ctx.newIntentId();
    if (intentId === null || (await recordIntent(ctx, target, intentId))) {
      return ctx.routeTo(target.repository, target.primary, { onFinish: (status) => finishWrite(ctx, target, intentId, status) });
    }
    if (attempt >= MAX_ROUTE_ATTEMPTS) throw new RoutingError('ROUTE_ABORTED', `the primary of ${describeRepo(target.repository)} kept changing; retry`);
  }
}

/** false: the primary or its generation moved since the state was read; route again. */
async function recordIntent(ctx: RouteContext, target: WriteTarget, intentId: string): Promise<boolean> {
  const result = await ctx.propose(
    { type: 'record-write-intent', repositoryId: target.repository.repositoryId, intentId, primary: target.primary, generation: target.generation },
    `recording a write intent for ${describeRepo(target.repository)}`,
  );
  if (result.status === 'not-found') throw new RoutingError('ROUTE_NOT_FOUND', `repository ${target.repository.repositoryId} was deleted`);
  if (result.status === 'conflict' && result.reason === 'too-many-intents') {
    throw new RoutingError('ROUTE_OVERLOADED', `too many writes in flight for ${describeRepo(target.repository)}`);
  }
  return result.status === 'ok';
}

async function finishWrite(ctx: RouteContext, target: WriteTarget, intentId: string | null, status: grpc.StatusObject): Promise<void> {
  const { repository, primary, generation } = target;
  ctx.observe(repository, primary, 'write', status);
  if (status.code !== grpc.status.OK) {
    // The node may have written part of it: settling the intent makes one copy authoritative.
    // An unreachable node is left to the reconciler: once health by quorum has marked it
    // down, settling moves the other replicas up instead of making the dead one the only copy.
    if (intentId !== null && status.code !== grpc.status.UNAVAILABLE) {
      ctx.background('settling the write intent of a failed call', () => resolveIntent(ctx, repository, intentId));
    }
    return;
  }
  const result = await ctx.propose(
    { type: 'bump-generation', repositoryId: repository.repositoryId, primary, generation, intentId, updatedSecondaries: [] },
    `the write to ${describeRepo(repository)} reached ${primary} but its generation bump`,
  );
  if (result.status === 'ok') {
    const others = expectedStorages(ctx, repository).filter((s) => s !== primary);
    enqueueAll(ctx, others.map((s) => updateJob(repository, primary, s)));
    return;
  }
  if (result.status === 'not-found') throw new RoutingError('ROUTE_ABORTED', `${describeRepo(repository)} was deleted during the call`);
  if (result.currentPrimary !== null && result.currentPrimary !== primary) enqueueAll(ctx, [updateJob(repository, result.currentPrimary, primary)]);
  if (intentId !== null) ctx.background('settling the write intent of a refused bump', () => resolveIntent(ctx, repository, intentId));
  throw new RoutingError('ROUTE_ABORTED', `the primary of ${describeRepo(repository)} changed during the call (now ${result.currentPrimary ?? 'none'}); retry`);
}

/** Settles an intent and re-syncs the replicas the settlement made outdated. */
async function resolveIntent(ctx: RouteContext, repository: RepositoryView, intentId: string): Promise<void> {
  const result = await ctx.options.access.propose({ type: 'resolve-write-intent', repositoryId: repository.repositoryId, intentId });
  if (result.status !== 'ok' || result.authoritative === null) return;
  const source = result.authoritative;
  enqueueAll(ctx, expectedStorages(ctx, repository).filter((s) => s !== source).map((s) => updateJob(repository, source, s)));
}

export function describeRepo(repository: RepositoryView): string {
  return `${repository.virtualStorage}/${repository.relativePath}`;
}

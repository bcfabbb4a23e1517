// Mutators (DESIGN §7, §10): to the primary, electing one first when the
// primary is not healthy by quorum. A write intent is recorded before the
// call is forwarded; the generation bump, a compare-and-set on the primary
// and generation the call was routed with, commits before the client hears
// success, and clears the intent.
import * as grpc from '@grpc/grpc-js';
import type { RepositoryView, WriteRoute } from '../cluster/index.js';
import { RoutingError, type Route } from '../proxy/index.js';
import type { RouteContext } from './route-context.js';
import { abandonTransaction, registerTransaction, transactionalRoute, votingSecondaries } from './transaction-route.js';
import { TRANSACTIONAL_METHODS } from './transactional-methods.js';
import { bumpAfterWrite, describeRepo, failedWrite, type WriteTarget } from './write-finish.js';
import { writeLogFields, writeMarker } from './write-marker.js';

/** Election and intent races resolved by re-reading the state; bounded so a flapping cluster fails the call instead of spinning. */
const MAX_ROUTE_ATTEMPTS = 3;

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

/** The route of a mutator: the vote registered and the intent recorded first, then the call, then the bump. */
export async function mutatorRoute(ctx: RouteContext, repositoryId: number, methodPath: string): Promise<Route> {
  const tx = TRANSACTIONAL_METHODS.has(methodPath) ? ctx.options.transactions : undefined;
  for (let attempt = 1; ; attempt++) {
    const target = await writeTarget(ctx, repositoryId);
    const registered = tx === undefined ? undefined : registerTransaction(tx, target, votingSecondaries(ctx, target));
    const intentId = ctx.options.writeIntents === false ? null : ctx.newIntentId();
    let recorded: boolean;
    try {
      recorded = intentId === null || (await recordIntent(ctx, target, intentId));
    } catch (error) {
      if (tx !== undefined) abandonTransaction(tx, registered);
      throw error;
    }
    if (recorded) {
      if (tx !== undefined && registered !== undefined) return transactionalRoute(ctx, tx, target, intentId, registered);
      return ctx.routeTo(target.repository, target.primary, {
        metadata: writeMarker(ctx, target, intentId, true),
        ...writeLogFields(intentId),
        onFinish: (status) => finishWrite(ctx, target, intentId, status),
      });
    }
    if (tx !== undefined) abandonTransaction(tx, registered);
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
  ctx.observe(target.repository, target.primary, 'write', status);
  if (status.code !== grpc.status.OK) return failedWrite(ctx, target, intentId, status);
  await bumpAfterWrite(ctx, target, intentId, []);
}

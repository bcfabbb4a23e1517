// After a mutator's call (DESIGN §7, §10): a failed call settles its write
// intent; a successful one bumps the generation of the primary (and of the
// secondaries that took the same write) before the client hears success,
// then schedules replication for the replicas left behind.
import * as grpc from '@grpc/grpc-js';
import type { RepositoryView } from '../cluster/index.js';
import { RoutingError } from '../proxy/index.js';
import { enqueueAll, expectedStorages, updateJob } from './replication-jobs.js';
import type { RouteContext } from './route-context.js';

export interface WriteTarget {
  repository: RepositoryView;
  primary: string;
  generation: number;
}

/** A failed call may have written part of it on the primary: settling the intent makes one copy authoritative. */
export function failedWrite(ctx: RouteContext, target: WriteTarget, intentId: string | null, status: grpc.StatusObject): void {
  // An unreachable node is left to the reconciler: once health by quorum has marked it
  // down, settling moves the other replicas up instead of making the dead one the only copy.
  if (intentId !== null && status.code !== grpc.status.UNAVAILABLE) {
    ctx.background('settling the write intent of a failed call', () => resolveIntent(ctx, target.repository, intentId));
  }
}

/**
 * The compare-and-set on the primary and generation the call was routed
 * with; `updatedSecondaries` move with the primary. `reasonOf` labels the
 * replication job of each replica that did not move.
 */
export async function bumpAfterWrite(
  ctx: RouteContext,
  target: WriteTarget,
  intentId: string | null,
  updatedSecondaries: readonly string[],
  reasonOf?: (storage: string) => string,
): Promise<void> {
  const { repository, primary, generation } = target;
  ctx.options.failpoint?.('before-bump');
  const result = await ctx.propose(
    { type: 'bump-generation', repositoryId: repository.repositoryId, primary, generation, intentId, updatedSecondaries },
    `the write to ${describeRepo(repository)} reached ${primary} but its generation bump`,
  );
  if (result.status === 'ok') {
    const moved = new Set([primary, ...result.bumpedSecondaries]);
    const behind = expectedStorages(ctx, repository).filter((s) => !moved.has(s));
    enqueueAll(ctx, behind.map((s) => updateJob(repository, primary, s, reasonOf?.(s))));
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

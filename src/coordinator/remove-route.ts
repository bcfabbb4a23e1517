// RemoveRepository: the primary removes its replica, then the cluster forgets
// the repository through Raft (so every router does), then the catalogue, and
// the other replicas are removed by delete_replica jobs.
import * as grpc from '@grpc/grpc-js';
import type { RepositoryView } from '../cluster/index.js';
import { RoutingError, type Route } from '../proxy/index.js';
import { deleteReplicaJob, enqueueAll } from './replication-jobs.js';
import type { RouteContext } from './route-context.js';
import { describeRepo } from './write-finish.js';
import { writeTarget } from './write-route.js';

export async function removeRoute(ctx: RouteContext, repositoryId: number): Promise<Route> {
  const target = await writeTarget(ctx, repositoryId);
  return ctx.routeTo(target.repository, target.primary, { onFinish: (status) => finishRemove(ctx, target.repository, target.primary, status) });
}

async function finishRemove(ctx: RouteContext, repository: RepositoryView, primary: string, status: grpc.StatusObject): Promise<void> {
  ctx.observe(repository, primary, 'write', status);
  // NOT_FOUND: the primary had no replica, yet the cluster knew the repository; forget it all the same.
  if (status.code !== grpc.status.OK && status.code !== grpc.status.NOT_FOUND) return;
  const result = await ctx.propose({ type: 'delete-repository', repositoryId: repository.repositoryId }, `removing ${describeRepo(repository)}`);
  if (result.status !== 'ok') throw new RoutingError('ROUTE_NOT_FOUND', `repository not found: ${describeRepo(repository)}`);
  ctx.background('forgetting a removed repository in the database', async () => {
    await ctx.options.catalogue?.delete(repository.virtualStorage, repository.relativePath);
  });
  const holders = Object.keys(repository.generations).filter((s) => s !== primary);
  enqueueAll(ctx, holders.map((s) => deleteReplicaJob(repository, s)));
}

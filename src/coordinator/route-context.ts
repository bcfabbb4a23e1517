// What every route decision shares: the options, the fresh read of cluster
// state, the lookup of a repository, and turning a storage into a target.
import type * as grpc from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import type { CommandBody, RepositoryView, ResultByType } from '../cluster/index.js';
import { RoutingError, type RepositoryRef, type Route } from '../proxy/index.js';
import type { NodeAddress } from '../config/index.js';
import type { ClusterRouterOptions } from './router-deps.js';

export class RouteContext {
  readonly random: () => number;

  constructor(readonly options: ClusterRouterOptions) {
    this.random = options.random ?? Math.random;
  }

  get view() {
    return this.options.access.view;
  }

  /**
   * DESIGN §7: state at least as fresh as a ReadIndex taken now. Without
   * quorum a write fails closed; a read may go on with this router's own
   * state when staleReads allows it (DESIGN §12: reads continue), and is
   * then 'stale': it may miss writes acknowledged elsewhere.
   */
  async freshen(mayBeStale: boolean): Promise<'fresh' | 'stale'> {
    if (this.options.freshReads === false) return 'fresh';
    const stale = mayBeStale ? this.options.staleReads : undefined;
    if (stale === undefined) {
      try {
        await this.options.access.fresh();
        return 'fresh';
      } catch (error) {
        throw new RoutingError('ROUTE_UNAVAILABLE', `cluster state is not available on this router: ${describe(error)}`, { cause: error });
      }
    }
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      this.options.access.fresh().then(
        () => 'fresh' as const,
        (error: unknown) => `the cluster state could not be confirmed: ${describe(error)}`,
      ),
      new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve(`no quorum answered within ${stale.afterMs} ms`), stale.afterMs);
      }),
    ]);
    clearTimeout(timer);
    if (outcome === 'fresh') return 'fresh';
    stale.onStaleRead?.(outcome);
    return 'stale';
  }

  /** A proposal whose failure means the outcome is unknown to the caller. */
  async propose<B extends CommandBody>(body: B, what: string): Promise<ResultByType[B['type']]> {
    try {
      return await this.options.access.propose(body);
    } catch (error) {
      throw new RoutingError('ROUTE_UNAVAILABLE', `${what}: the cluster state could not record it: ${describe(error)}`, { cause: error });
    }
  }

  checkVirtualStorage(ref: RepositoryRef): void {
    if (!this.options.nodes.has(ref.storage_name)) {
      throw new RoutingError('ROUTE_INVALID', `repository.storage_name: virtual storage "${ref.storage_name}" is not configured`);
    }
  }

  /** The repository the call names, or NOT_FOUND. */
  repository(ref: RepositoryRef): RepositoryView {
    const id = this.view.repositoryId(ref.storage_name, ref.relative_path);
    const view = id === undefined ? undefined : this.view.repository(id);
    if (view === undefined) throw new RoutingError('ROUTE_NOT_FOUND', `repository not found: ${ref.storage_name}/${ref.relative_path}`);
    return view;
  }

  node(virtualStorage: string, storage: string): NodeAddress {
    const node = this.options.nodes.find(virtualStorage, storage);
    if (node === undefined) throw new RoutingError('ROUTE_UNAVAILABLE', `storage "${storage}" of virtual storage "${virtualStorage}" is not configured on this router`);
    return node;
  }

  reachable(virtualStorage: string, storage: string): boolean {
    return this.options.reachable(virtualStorage, storage);
  }

  /** The route to `storage` for `repository`, with the path rewritten to the replica path. */
  routeTo(repository: RepositoryView, storage: string, extra: Partial<Route> = {}): Route {
    const node = this.node(repository.virtualStorage, storage);
    return {
      target: routeTarget(node),
      rewrite: { storageName: node.storage, relativePath: repository.replicaPath },
      ...extra,
    };
  }

  pick<T>(items: readonly T[]): T | undefined {
    return items.length === 0 ? undefined : items[Math.floor(this.random() * items.length) % items.length];
  }

  observe(repository: RepositoryView, storage: string, kind: 'read' | 'write', status: grpc.StatusObject): void {
    this.options.onNodeResult?.({ virtualStorage: repository.virtualStorage, storage }, kind, status.code);
  }

  /** Fire-and-forget work after a call; failures are logged, since the reconciler repairs what they leave. */
  background(what: string, work: () => Promise<unknown>): void {
    work().catch((error: unknown) => this.options.logger?.warn({ err: error }, `${what} failed`));
  }

  newIntentId(): string {
    return randomUUID();
  }

  get routerName(): string {
    return this.options.access.routerName;
  }
}

export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function primaryOnly(metadata: grpc.Metadata): boolean {
  return metadata.get('gitaly-route-repository-accessor-policy').some((v) => v.toString() === 'primary-only');
}

export function routeTarget(node: NodeAddress): { address: string; token?: string } {
  return { address: node.address, ...(node.token === '' ? {} : { token: node.token }) };
}

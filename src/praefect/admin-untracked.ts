// list-untracked-repositories: repositories on the storage nodes' disks that
// the catalogue does not know, streamed.
import * as grpc from '@grpc/grpc-js';
import { AdminRequestError, type ListUntrackedRepositoriesRequest, type ListUntrackedRepositoriesResponse, type UntrackedRepository } from '../admin/index.js';
import type { NodeAddress } from '../config/index.js';
import { DatabaseError } from '../db/index.js';
import { gitalyClient } from '../gitaly/index.js';
import { type RepositoryDeps, configuredNodes, requireVirtualStorage } from './admin-deps.js';
import { type Send, messageOf } from './admin-handlers.js';

/** Paths checked against the database in one query. */
const UNTRACKED_BATCH = 500;
export async function listUntrackedRepositories(
  { deps, store }: RepositoryDeps,
  request: ListUntrackedRepositoriesRequest,
  send: Send<ListUntrackedRepositoriesResponse>,
  signal: AbortSignal,
): Promise<void> {
  const virtualStorage = request.virtual_storage ?? '';
  if (virtualStorage !== '') requireVirtualStorage(deps, virtualStorage);
  const nodes = configuredNodes(deps).all().filter((n) => virtualStorage === '' || n.virtualStorage === virtualStorage);
  if (store === undefined) throw new AdminRequestError('FAILED_PRECONDITION', 'this router has no database configured');
  // Ask the database before walking: without it nothing can be called untracked.
  await untrackedCheck(() => store.trackedReplicaPaths(nodes[0]?.virtualStorage ?? '', []));
  const olderThanMs = request.older_than_ms ?? 0;
  const cutoffMs = olderThanMs > 0 ? Date.now() - olderThanMs : Number.POSITIVE_INFINITY;
  for (const node of nodes) {
    for await (const batch of walkNode(node, signal)) {
      const old = batch.filter((r) => r.modification_time_ms <= cutoffMs);
      if (old.length === 0) continue;
      const tracked = await untrackedCheck(() => store.trackedReplicaPaths(node.virtualStorage, old.map((r) => r.relative_path)));
      const untracked = old.filter((r) => !tracked.has(r.relative_path));
      if (untracked.length > 0) await send({ repositories: untracked });
    }
  }
}
async function untrackedCheck<T>(query: () => Promise<T>): Promise<T> {
  try {
    return await query();
  } catch (error) {
    if (error instanceof DatabaseError) throw new AdminRequestError('UNAVAILABLE', `the database is unavailable, so tracked repositories cannot be told from untracked ones: ${error.message}`);
    throw error;
  }
}
interface WalkedRepository {
  relative_path: string;
  modification_time: { seconds: number; nanos: number } | null;
}
/** The node's repositories in batches of UNTRACKED_BATCH, read from its WalkRepos stream as the batches are consumed. */
async function* walkNode(node: NodeAddress, signal: AbortSignal): AsyncGenerator<UntrackedRepository[]> {
  const client = gitalyClient('gitaly.InternalGitaly', node.address, node.token === '' ? {} : { token: node.token });
  const method = (client as unknown as Record<string, (request: object) => grpc.ClientReadableStream<WalkedRepository>>)['WalkRepos']!.bind(client);
  const stream = method({ storage_name: node.storage });
  const cancel = (): void => stream.cancel();
  signal.addEventListener('abort', cancel, { once: true });
  let batch: UntrackedRepository[] = [];
  try {
    for await (const found of stream as AsyncIterable<WalkedRepository>) {
      const time = found.modification_time;
      batch.push({
        virtual_storage: node.virtualStorage,
        storage: node.storage,
        relative_path: found.relative_path,
        modification_time_ms: time === null ? 0 : time.seconds * 1000 + Math.floor(time.nanos / 1e6),
      });
      if (batch.length >= UNTRACKED_BATCH) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  } catch (error) {
    if (signal.aborted) throw error;
    const details = typeof error === 'object' && error !== null && 'details' in error ? String(error.details) : messageOf(error);
    throw new AdminRequestError('UNAVAILABLE', `storage ${node.virtualStorage}/${node.storage} (${node.address}) could not list its repositories: ${details}`);
  } finally {
    signal.removeEventListener('abort', cancel);
    stream.cancel();
    client.close();
  }
}

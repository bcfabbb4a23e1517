// InternalGitaly: what routers ask a node about its disk as a whole.
import type * as grpc from '@grpc/grpc-js';
import type { NodeContext } from '../node-context.js';
import { walkRepositories } from '../repository-walk.js';
import { serverStream } from '../rpc-adapters.js';
import type { TimestampMsg } from '../wire-types.js';

interface WalkReposResponse {
  relative_path: string;
  modification_time: TimestampMsg;
}

export function internalService(node: NodeContext): grpc.UntypedServiceImplementation {
  return {
    // One message per repository, written as found: the client's reading pace bounds the walk.
    WalkRepos: serverStream(async (request: { storage_name: string }, sink: { write(m: WalkReposResponse): Promise<void> }, ctx) => {
      const storagePath = node.locator.storagePath(request.storage_name);
      for await (const found of walkRepositories(storagePath, ctx.signal)) {
        await sink.write({ relative_path: found.relativePath, modification_time: { ...found.modified } });
      }
    }),
  };
}

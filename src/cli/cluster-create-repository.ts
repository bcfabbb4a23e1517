// `bin/cluster create-repository`: gitaly.RepositoryService/CreateRepository
// through a router, which allocates the id, places the replicas and records
// them in Raft. A push never creates a repository.
import * as grpc from '@grpc/grpc-js';
import { gitalyClient } from '../gitaly/index.js';
import { CommandFailedError, describeError, type ClusterTarget } from './cluster-target.js';

export async function createRepository(target: ClusterTarget, virtualStorage: string, relativePath: string): Promise<string> {
  const failures: string[] = [];
  for (const address of target.routers) {
    const client = gitalyClient('gitaly.RepositoryService', address, { token: target.token });
    try {
      await new Promise<void>((resolve, reject) => {
        const method = (client as unknown as Record<string, (...args: unknown[]) => unknown>)['CreateRepository']!.bind(client);
        method({ repository: { storage_name: virtualStorage, relative_path: relativePath } }, { deadline: Date.now() + 30_000 }, (error: grpc.ServiceError | null) =>
          error ? reject(error) : resolve(),
        );
      });
      return address;
    } catch (error) {
      const code = (error as grpc.ServiceError).code;
      // Only a router that refused is asked again: a creation that timed out may still complete.
      if (code !== grpc.status.UNAVAILABLE) throw new CommandFailedError(`router ${address}: ${describeError(error)}`);
      failures.push(`${address}: ${describeError(error)}`);
    } finally {
      client.close();
    }
  }
  throw new CommandFailedError(`no router could create it (${failures.join('; ')})`);
}

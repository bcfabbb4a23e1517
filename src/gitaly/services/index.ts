// Every service the storage node serves, by qualified name.
import type * as grpc from '@grpc/grpc-js';
import type { NodeContext } from '../node-context.js';
import { blobService } from './blob-service.js';
import { commitService } from './commit-service.js';
import { healthService } from './health-service.js';
import { internalService } from './internal-service.js';
import { operationService } from './operation-service.js';
import { refService } from './ref-service.js';
import { repositoryService } from './repository-service.js';
import { serverService } from './server-service.js';
import { smartHttpService } from './smart-http-service.js';
import { sshService } from './ssh-service.js';

export function nodeServices(node: NodeContext): Map<string, grpc.UntypedServiceImplementation> {
  return new Map([
    ['grpc.health.v1.Health', healthService(node)],
    ['gitaly.ServerService', serverService(node)],
    ['gitaly.RepositoryService', repositoryService(node)],
    ['gitaly.RefService', refService(node)],
    ['gitaly.CommitService', commitService(node)],
    ['gitaly.BlobService', blobService(node)],
    ['gitaly.OperationService', operationService(node)],
    ['gitaly.SmartHTTPService', smartHttpService(node)],
    ['gitaly.SSHService', sshService(node)],
    ['gitaly.InternalGitaly', internalService(node)],
  ]);
}

/** Calls that need no token: load balancers and routers probe health without one. */
export const UNAUTHENTICATED_SERVICES: ReadonlySet<string> = new Set(['grpc.health.v1.Health']);

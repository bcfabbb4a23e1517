// The git CLI suite against the real storage node, bin/gitaly, with a v2
// token between gateway and node. Skipped with a reason while the node is
// not built or does not serve SmartHTTPService yet.
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import path from 'node:path';
import { v2TokenInterceptor } from '../../src/auth/index.js';
import { requireService } from '../../src/protocol/index.js';
import { gatewayBuilt } from './gateway-process.js';
import { gitalyBuilt, startGitalyProcess, type GitalyProcess } from './gitaly-process.js';
import { gitSuite } from './git-suite.js';

const TOKEN = 'gateway e2e token';

function client(service: string, node: GitalyProcess): grpc.Client {
  const Client = grpc.makeGenericClientConstructor(requireService(service), service);
  return new Client(node.address, grpc.credentials.createInsecure(), { interceptors: [v2TokenInterceptor(TOKEN)] });
}

function createRepository(node: GitalyProcess, relativePath: string): Promise<void> {
  const repositories = client('gitaly.RepositoryService', node) as unknown as {
    CreateRepository(req: object, cb: (err: grpc.ServiceError | null) => void): void;
    close(): void;
  };
  return new Promise((resolve, reject) =>
    repositories.CreateRepository({ repository: { storage_name: node.storageName, relative_path: relativePath } }, (err) => {
      repositories.close();
      if (err) reject(err);
      else resolve();
    }),
  );
}

/** Resolves with the status code of InfoRefsUploadPack on a missing repository. */
function probeSmartHttp(node: GitalyProcess): Promise<grpc.status> {
  const smartHttp = client('gitaly.SmartHTTPService', node) as unknown as {
    InfoRefsUploadPack(req: object): grpc.ClientReadableStream<unknown>;
    close(): void;
  };
  return new Promise((resolve) => {
    const call = smartHttp.InfoRefsUploadPack({ repository: { storage_name: node.storageName, relative_path: 'probe.git' } });
    call.on('data', () => undefined);
    call.on('status', (status: grpc.StatusObject) => {
      smartHttp.close();
      resolve(status.code);
    });
    call.on('error', () => undefined);
  });
}

async function main(): Promise<void> {
  if (!gatewayBuilt() || !gitalyBuilt()) {
    t.plan(0, 'dist/ lacks the gateway or the storage node: run `npm run build`');
    return;
  }
  const node = await startGitalyProcess(TOKEN);
  const probe = await probeSmartHttp(node);
  if (probe === grpc.status.UNIMPLEMENTED) {
    await node.stop();
    t.plan(0, 'bin/gitaly does not serve gitaly.SmartHTTPService yet');
    return;
  }
  gitSuite(
    t,
    async () => ({
      target: node.address,
      storageName: node.storageName,
      createRepository: (relativePath) => createRepository(node, relativePath),
      repositoryDir: (relativePath) => path.join(node.storageDir, relativePath),
      stop: async () => void (await node.stop()),
    }),
    { env: { GIT_GATEWAY_TOKEN: TOKEN } },
  );
}

await main();

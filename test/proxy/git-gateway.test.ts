// Plain git through the HTTP gateway (its compiled code, its own process)
// pointed at the forwarder, in front of a real storage node: push, clone,
// and both end up at the replica path.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import t from 'tap';
import { git, seedWorkRepo, tempDir } from '../gitaly/fixtures/git.js';
import { Rpc } from '../gitaly/fixtures/rpc.js';
import { replicaPath, staticRouter, VIRTUAL_STORAGE } from './fixtures/static-router.js';
import { childEnv, distBuilt, entryArgs, GATEWAY_ENTRY, startStorageNode, waitForLog } from './fixtures/storage-node.js';
import { TRANSPORTS } from './fixtures/transports.js';

const NODE_TOKEN = 'gateway node secret';
const CLIENT_TOKEN = 'gateway client secret';

if (!distBuilt()) {
  t.plan(0, 'dist/ lacks the storage node or the gateway: run `npm run build`');
  process.exit(0);
}

const node = await startStorageNode(NODE_TOKEN);
t.teardown(() => node.stop());
const refsOf = (dir: string) => git(dir, 'for-each-ref', '--format=%(refname) %(objectname)');

async function startGateway(target: string): Promise<{ base: string; stop(): Promise<void> }> {
  const args = ['--listen', '127.0.0.1:0', '--target', target, '--storage', VIRTUAL_STORAGE];
  const child = spawn(process.execPath, entryArgs(GATEWAY_ENTRY, 'runGitGatewayCli', args), { env: childEnv({ GIT_GATEWAY_TOKEN: CLIENT_TOKEN }), stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = once(child, 'exit');
  const base = `http://${await waitForLog(child, 'git gateway listening')}`;
  return {
    base,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

for (const [transport, startProxy] of TRANSPORTS) {
  t.test(transport, async (t) => {
    const proxy = await startProxy({ router: staticRouter({ address: node.address, token: NODE_TOKEN }), auth: { token: CLIENT_TOKEN } });
    const gateway = await startGateway(proxy.address);
    const rpc = new Rpc(proxy.address, CLIENT_TOKEN);
    t.teardown(async () => {
      rpc.close();
      await gateway.stop();
      await proxy.close();
    });
    for (const protocol of ['0', '2']) {
      t.test(`git push and clone through the gateway and the router (protocol v${protocol})`, async (t) => {
        const relative = `${transport}/project-v${protocol}.git`;
        await rpc.unary('/gitaly.RepositoryService/CreateRepository', { repository: { storage_name: VIRTUAL_STORAGE, relative_path: relative } });
        const work = await seedWorkRepo();
        const url = `${gateway.base}/${relative}`;
        await git(work.dir, '-c', `protocol.version=${protocol}`, 'push', '-q', url, 'refs/heads/*:refs/heads/*', 'refs/tags/*:refs/tags/*');
        t.equal(await refsOf(path.join(node.storageDir, replicaPath(relative))), await refsOf(work.dir), 'the push landed at the replica path');
        const clone = path.join(await tempDir('proxy-gateway-'), 'clone.git');
        await git(path.dirname(clone), '-c', `protocol.version=${protocol}`, 'clone', '-q', '--mirror', url, clone);
        t.equal(await refsOf(clone), await refsOf(work.dir), 'the clone has every ref');
        await git(clone, 'fsck', '--strict');
      });
    }
  });
}

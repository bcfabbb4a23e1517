// bin/gitaly as a real process: configuration checks at startup, serving,
// metrics, and a clean stop on SIGTERM. Runs the compiled code in dist/.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import { findProjectRoot } from '../../src/protocol/index.js';
import { tempDir } from './fixtures/git.js';
import { distAvailable, startProcessNode, stopProcess } from './fixtures/node.js';
import { Rpc } from './fixtures/rpc.js';
import { FaultProxy, formatHostPort, PASS, RESET } from '../../jepsen/net/index.js';

const BIN = path.join(findProjectRoot(), 'bin', 'gitaly');

// `env -u NODE_OPTIONS`: see fixtures/node.ts.
function runBin(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('env', ['-u', 'NODE_OPTIONS', process.execPath, BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

if (!distAvailable()) {
  t.plan(0, 'dist/ is missing: run `npm run build` first (npm test does)');
} else {
  t.test('an invalid configuration is refused with each key and reason', async (t) => {
    const dir = await tempDir();
    const file = path.join(dir, 'bad.toml');
    await writeFile(file, ['listen_addr = "nowhere"', 'token = 1', '[[storage]]', 'name = "a b"', 'path = "relative"', '[git]', 'max_concurrent = -1', ''].join('\n'));
    const { code, stderr } = await runBin([file]);
    t.equal(code, 2);
    t.match(stderr, /listen_addr: expected host:port/);
    t.match(stderr, /storage\[0\]\.name: /);
    t.match(stderr, /storage\[0\]\.path: must be an absolute path/);
    t.match(stderr, /git\.max_concurrent: /);
    t.match(stderr, /token: unknown key/);
    const missing = await runBin([path.join(dir, 'absent.toml')]);
    t.equal(missing.code, 2);
    t.match(missing.stderr, /cannot read/);
    t.equal((await runBin([])).code, 2, 'usage error without a config');
    await writeFile(file, 'listen_addr = "127.0.0.1:0"\n[[storage]]\nname = "x"\npath = "/tmp"\n[[storage]]\nname = "x"\npath = "/var/tmp"\n');
    t.match((await runBin([file])).stderr, /storage\[1\]\.name: duplicate storage name "x"/);
  });

  t.test('serves, exposes metrics, stops on SIGTERM', async (t) => {
    const node = await startProcessNode({ token: 'process-secret' });
    const rpc = new Rpc(node.address, 'process-secret');
    t.teardown(() => rpc.close());
    t.same(await rpc.unary('/grpc.health.v1.Health/Check', {}), { status: 'SERVING' });
    const repository = { storage_name: 'default', relative_path: 'p.git' };
    await rpc.unary('/gitaly.RepositoryService/CreateRepository', { repository });
    t.same(await rpc.unary('/gitaly.RepositoryService/RepositoryExists', { repository }), { exists: true });
    const metrics = await (await fetch(`http://127.0.0.1:${node.metricsPort}/metrics`)).text();
    t.match(metrics, /grpc_server_handled_total\{grpc_service="gitaly.RepositoryService",grpc_method="CreateRepository",grpc_code="OK"\} 1/);
    t.match(metrics, /gitaly_authentications_total\{enforced="true",status="ok"\} \d+/);
    t.match(metrics, /gitaly_concurrency_limiting_in_progress/);
    const exited = new Promise<number | null>((resolve) => node.child.once('exit', (code) => resolve(code)));
    await stopProcess(node.child);
    t.equal(await exited, 0);
  });

  t.test('a connection reset in the middle of SSHUploadPack does not take the node down (a replicating peer that dies does that)', async (t) => {
    const node = await startProcessNode();
    const direct = new Rpc(node.address);
    const [host = '', port = ''] = node.address.split(':');
    const proxy = new FaultProxy({ name: 'client->node', target: { host, port: Number(port) } });
    const proxied = new Rpc(formatHostPort(await proxy.start()));
    t.teardown(async () => {
      direct.close();
      proxied.close();
      await proxy.close();
      await node.close();
    });
    const repository = { storage_name: 'default', relative_path: 'hangup.git' };
    await direct.unary('/gitaly.RepositoryService/CreateRepository', { repository });
    for (let i = 0; i < 5; i++) {
      proxy.setModes({ upstream: PASS, downstream: PASS });
      const ssh = proxied.client('gitaly.SSHService') as unknown as Record<string, () => grpc.ClientDuplexStream<unknown, unknown>>;
      const call = (ssh['SSHUploadPack'] as () => grpc.ClientDuplexStream<unknown, unknown>).call(ssh);
      call.on('error', () => undefined);
      // git sends its advertisement, then waits for the client's wants: the client's connection dies then.
      const ended = new Promise<void>((resolve) => call.once('status', () => resolve()));
      call.write({ repository });
      // A node that died with the previous connection never answers: the status ends the wait then.
      await Promise.race([new Promise<void>((resolve) => call.once('data', () => resolve())), ended]);
      proxy.setModes({ upstream: RESET, downstream: RESET });
      await ended;
    }
    t.same(await direct.unary('/gitaly.RepositoryService/RepositoryExists', { repository }), { exists: true }, 'the node is still serving');
    t.equal(node.child.exitCode, null, 'and running');
  });
}

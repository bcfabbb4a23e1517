// bin/gitaly as a real process: configuration checks at startup, serving,
// metrics, and a clean stop on SIGTERM. Runs the compiled code in dist/.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { findProjectRoot } from '../../src/protocol/index.js';
import { tempDir } from './fixtures/git.js';
import { distAvailable, startProcessNode, stopProcess } from './fixtures/node.js';
import { Rpc } from './fixtures/rpc.js';

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
}

// bin/git-gateway as a process: help, refusals with the reason, the token
// from a file or the environment, and a clean exit on SIGINT.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseListen } from '../../src/gateway/index.js';
import { startFakeUpstream } from './fake-smart-http.js';
import { GATEWAY_BIN, gatewayBuilt, startGatewayProcess } from './gateway-process.js';
import { httpRequest } from './http-request.js';

function runBin(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // `env -u NODE_OPTIONS`: see gateway-process.ts.
    execFile('env', ['-u', 'NODE_OPTIONS', process.execPath, GATEWAY_BIN, ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

t.test('parseListen', async (t) => {
  t.same(parseListen('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
  t.same(parseListen('[::1]:0'), { host: '::1', port: 0 });
  t.throws(() => parseListen('8080'), /expected HOST:PORT, got "8080"/);
  t.throws(() => parseListen('host:70000'), /expected HOST:PORT/);
});

if (!gatewayBuilt()) {
  t.comment('dist/ is missing: run `npm run build`; process tests skipped');
} else {
  t.test('--help and refusals', async (t) => {
    const help = await runBin(['--help']);
    t.equal(help.code, 0);
    t.match(help.stdout, /--target/);
    t.match(help.stdout, /--token-file/);
    const missing = await runBin([]);
    t.equal(missing.code, 1);
    t.match(missing.stderr, /Missing required argument: target/);
    const badListen = await runBin(['--target', '127.0.0.1:1', '--listen', 'nope']);
    t.equal(badListen.code, 1);
    t.match(badListen.stderr, /--listen: expected HOST:PORT, got "nope"/);
    const dir = mkdtempSync(path.join(tmpdir(), 'gateway-cli-'));
    writeFileSync(path.join(dir, 'empty'), '\n');
    const emptyToken = await runBin(['--target', '127.0.0.1:1', '--token-file', path.join(dir, 'empty')]);
    t.equal(emptyToken.code, 1);
    t.match(emptyToken.stderr, /--token-file: .* is empty/);
    const badTarget = await runBin(['--target', 'no-port']);
    t.equal(badTarget.code, 1);
    t.match(badTarget.stderr, /invalid gateway options: target: expected host:port/);
  });

  t.test('the token comes from --token-file or GIT_GATEWAY_TOKEN', async (t) => {
    const secret = 'cli secret';
    const upstream = await startFakeUpstream(secret);
    t.teardown(upstream.stop);
    const dir = mkdtempSync(path.join(tmpdir(), 'gateway-cli-'));
    writeFileSync(path.join(dir, 'token'), `${secret}\n`);
    const path_ = '/x.git/info/refs?service=git-upload-pack';

    const fromFile = await startGatewayProcess(['--target', upstream.address, '--token-file', path.join(dir, 'token')]);
    t.equal((await httpRequest(fromFile.base, path_)).status, 200, 'token file');
    t.equal(await fromFile.stop(), 0);

    const fromEnv = await startGatewayProcess(['--target', upstream.address], { GIT_GATEWAY_TOKEN: secret });
    t.equal((await httpRequest(fromEnv.base, path_)).status, 200, 'environment');
    t.equal(await fromEnv.stop(), 0);

    const without = await startGatewayProcess(['--target', upstream.address]);
    t.equal((await httpRequest(without.base, path_)).status, 401, 'no token');
    without.child.kill('SIGINT');
    t.equal(await without.stop(), 0, 'SIGINT exits 0 too');
  });
}

// The git CLI through the gateway, against any storage backend that serves
// SmartHTTPService over real repositories: push, clone back and compare,
// gzip bodies, bad paths, missing repositories and concurrent pushes.
import type { Test } from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { git, gitTry, makeGitHome } from './git-cli.js';
import { startGatewayProcess, type GatewayProcess } from './gateway-process.js';
import { httpRequest } from './http-request.js';

export interface StorageBackend {
  /** gRPC address serving SmartHTTPService. */
  target: string;
  storageName: string;
  /** Creates an empty repository at the relative path. */
  createRepository(relativePath: string): Promise<void>;
  /** The repository's directory on disk, for fsck and inspection. */
  repositoryDir(relativePath: string): string;
  stop(): Promise<void>;
}

async function makeSourceRepo(home: string, dir: string): Promise<void> {
  await git(home, dir, ['init', '-q']);
  for (let i = 0; i < 5; i++) {
    writeFileSync(path.join(dir, `file-${i}.txt`), `content ${i}\n`.repeat(100 + i));
    await git(home, dir, ['add', '.']);
    await git(home, dir, ['commit', '-q', '-m', `commit ${i}`]);
  }
  await git(home, dir, ['branch', 'feature', 'HEAD~2']);
  await git(home, dir, ['tag', '-a', 'v1.0', '-m', 'release', 'HEAD~1']);
  await git(home, dir, ['tag', 'light', 'HEAD~3']);
}

/** Refs and reachable objects: what must be equal after a round trip. */
async function snapshot(home: string, dir: string): Promise<{ refs: string; objects: string }> {
  const refs = await git(home, dir, ['for-each-ref', '--format=%(objectname) %(refname)', 'refs/heads', 'refs/tags']);
  const objects = (await git(home, dir, ['rev-list', '--all', '--objects'])).split('\n').sort().join('\n');
  return { refs, objects };
}

export function gitSuite(
  t: Test,
  startBackend: () => Promise<StorageBackend>,
  gatewayOptions: { args?: string[]; env?: NodeJS.ProcessEnv } = {},
): void {
  let backend: StorageBackend;
  let gateway: GatewayProcess;
  const home = makeGitHome();
  const work = mkdtempSync(path.join(tmpdir(), 'gateway-git-work-'));

  t.before(async () => {
    backend = await startBackend();
    gateway = await startGatewayProcess(['--target', backend.target, '--storage', backend.storageName, ...(gatewayOptions.args ?? [])], gatewayOptions.env);
  });
  t.teardown(async () => {
    await gateway?.stop();
    await backend?.stop();
  });

  for (const protocol of ['0', '2']) {
    t.test(`push through the gateway, clone back, compare (protocol v${protocol})`, async (t) => {
      const relativePath = `group/project-v${protocol}.git`;
      await backend.createRepository(relativePath);
      const source = mkdtempSync(path.join(work, 'source-'));
      await makeSourceRepo(home, source);
      const url = `${gateway.base}/${relativePath}`;
      const config = ['-c', `protocol.version=${protocol}`];
      await git(home, source, [...config, 'push', '-q', url, '--all']);
      await git(home, source, [...config, 'push', '-q', url, '--tags']);
      const clone = path.join(work, `clone-v${protocol}`);
      await git(home, work, [...config, 'clone', '-q', '--mirror', url, clone]);
      t.same(await snapshot(home, clone), await snapshot(home, source), 'refs and objects match');

      // An incremental fetch exercises negotiation with haves.
      writeFileSync(path.join(source, 'later.txt'), 'later\n');
      await git(home, source, ['add', '.']);
      await git(home, source, ['commit', '-q', '-m', 'later']);
      await git(home, source, [...config, 'push', '-q', url, 'main']);
      await git(home, clone, [...config, 'fetch', '-q', url, '+refs/heads/*:refs/heads/*']);
      t.same(await snapshot(home, clone), await snapshot(home, source), 'still equal after an incremental fetch');
      const ls = await git(home, work, [...config, 'ls-remote', url]);
      t.match(ls, /refs\/heads\/feature/);
      await git(home, backend.repositoryDir(relativePath), ['fsck', '--strict', '--no-progress']);
    });
  }

  t.test('a gzip-encoded upload-pack request works', async (t) => {
    const relativePath = 'gzip/project.git';
    await backend.createRepository(relativePath);
    const source = mkdtempSync(path.join(work, 'gzip-source-'));
    await makeSourceRepo(home, source);
    await git(home, source, ['push', '-q', `${gateway.base}/${relativePath}`, 'main']);
    const head = (await git(home, source, ['rev-parse', 'main'])).trim();
    const pkt = (s: string) => `${(s.length + 4).toString(16).padStart(4, '0')}${s}`;
    const body = Buffer.from(`${pkt(`want ${head} no-progress\n`)}0000${pkt('done\n')}`);
    const res = await httpRequest(gateway.base, `/${relativePath}/git-upload-pack`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-git-upload-pack-request', 'Content-Encoding': 'gzip' },
      body: gzipSync(body),
    });
    t.equal(res.status, 200);
    t.equal(res.headers['content-type'], 'application/x-git-upload-pack-result');
    t.equal(res.body.subarray(0, 8).toString(), '0008NAK\n');
    t.equal(res.body.subarray(8, 12).toString(), 'PACK', 'a packfile follows');
  });

  t.test('a traversal path gets 400', async (t) => {
    for (const target of ['/../../etc/info/refs?service=git-upload-pack', '/a/%2e%2e/%2e%2e/x.git/info/refs?service=git-upload-pack']) {
      const res = await httpRequest(gateway.base, target);
      t.equal(res.status, 400, target);
      t.match(res.body.toString(), /path traversal/);
    }
    const nul = await httpRequest(gateway.base, '/x%00.git/info/refs?service=git-upload-pack');
    t.equal(nul.status, 400);
  });

  t.test('a missing repository is a clear error', async (t) => {
    const res = await httpRequest(gateway.base, '/no/such/repo.git/info/refs?service=git-upload-pack');
    t.equal(res.status, 404);
    t.match(res.body.toString(), /^NOT_FOUND: /);
    const cloned = await gitTry(home, work, ['clone', `${gateway.base}/no/such/repo.git`, path.join(work, 'never')]);
    t.not(cloned.code, 0);
    t.match(cloned.stderr, /not found/);
  });

  t.test('two concurrent pushes to one repository end consistently', async (t) => {
    const relativePath = 'race/project.git';
    await backend.createRepository(relativePath);
    const url = `${gateway.base}/${relativePath}`;
    const base = mkdtempSync(path.join(work, 'race-base-'));
    await makeSourceRepo(home, base);
    await git(home, base, ['push', '-q', url, 'main']);
    const clones = await Promise.all(
      ['a', 'b'].map(async (name) => {
        const dir = path.join(work, `race-${name}`);
        await git(home, work, ['clone', '-q', url, dir]);
        writeFileSync(path.join(dir, `${name}.txt`), `${name}\n`.repeat(1000));
        await git(home, dir, ['add', '.']);
        await git(home, dir, ['commit', '-q', '-m', `from ${name}`]);
        return { name, dir, commit: (await git(home, dir, ['rev-parse', 'HEAD'])).trim() };
      }),
    );

    // Different branches: both succeed.
    const branches = await Promise.all(clones.map((c) => gitTry(home, c.dir, ['push', '-q', url, `HEAD:refs/heads/topic-${c.name}`])));
    t.same(branches.map((r) => r.code), [0, 0], branches.map((r) => r.stderr).join(''));
    const remote = await git(home, work, ['ls-remote', url]);
    for (const c of clones) t.match(remote, `${c.commit}\trefs/heads/topic-${c.name}`);

    // The same branch: at least one wins, a loser is rejected cleanly, and
    // the branch ends at a pushed commit.
    const same = await Promise.all(clones.map((c) => gitTry(home, c.dir, ['push', url, 'HEAD:refs/heads/main'])));
    const winners = clones.filter((_, i) => same[i]?.code === 0);
    t.ok(winners.length >= 1, 'one push succeeds');
    for (const [i, result] of same.entries()) {
      if (result.code !== 0) t.match(result.stderr, /rejected|failed to push|cannot lock ref|fetch first/, `${clones[i]?.name} is rejected cleanly`);
    }
    const main = (await git(home, work, ['ls-remote', url, 'refs/heads/main'])).split('\t')[0];
    t.ok(winners.some((w) => w.commit === main), 'main points at a winning push');
    await git(home, backend.repositoryDir(relativePath), ['fsck', '--strict', '--no-progress']);
  });

  t.test('the gateway process exits 0 on SIGTERM', async (t) => {
    t.equal(await gateway.stop(), 0);
  });
}

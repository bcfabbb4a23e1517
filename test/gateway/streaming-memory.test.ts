// A push and a clone of a repository of incompressible data go through the
// gateway process; its peak RSS (VmHWM) must grow by well under the
// repository's size, which it would not if it held a packfile whole or
// ignored backpressure toward a slower git client. A smaller round trip
// first brings the process to its steady state (heap, allocator, buffers),
// so the measurement shows what grows with the data, not fixed overhead.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { git, makeGitHome } from './git-cli.js';
import { startGitBackedUpstream } from './git-backed-upstream.js';
import { gatewayBuilt, startGatewayProcess } from './gateway-process.js';

const MiB = 1024 * 1024;
const WARMUP_BYTES = 8 * MiB;
const REPO_BYTES = Number(process.env.GATEWAY_MEMORY_TEST_MIB ?? 48) * MiB;
const FILE_BYTES = 4 * MiB;

function peakRssBytes(pid: number): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`no VmHWM for ${pid}`);
  return Number(match[1]) * 1024;
}

if (!gatewayBuilt()) {
  t.plan(0, 'dist/ is missing: run `npm run build` so bin/git-gateway can start');
} else {
  t.test('push and clone of a large repository stream through the gateway', async (t) => {
    const home = makeGitHome();
    const work = mkdtempSync(path.join(tmpdir(), 'gateway-memory-'));
    const storageDir = path.join(work, 'storage');
    const upstream = await startGitBackedUpstream('default', storageDir);
    t.teardown(upstream.stop);
    const gateway = await startGatewayProcess(['--target', upstream.address, '--storage', 'default']);
    t.teardown(() => gateway.stop());
    const pid = gateway.child.pid!;

    const roundTrip = async (name: string, bytes: number): Promise<void> => {
      const source = path.join(work, `${name}-source`);
      await git(home, work, ['init', '-q', source]);
      for (let written = 0, i = 0; written < bytes; written += FILE_BYTES, i++) {
        writeFileSync(path.join(source, `blob-${i}.bin`), randomBytes(FILE_BYTES));
      }
      await git(home, source, ['add', '.']);
      await git(home, source, ['commit', '-q', '-m', name]);
      await git(home, work, ['init', '-q', '--bare', path.join(storageDir, `${name}.git`)]);
      await git(home, source, ['push', '-q', `${gateway.base}/${name}.git`, 'main']);
      const clone = path.join(work, `${name}-clone.git`);
      await git(home, work, ['clone', '-q', '--bare', `${gateway.base}/${name}.git`, clone]);
      t.equal((await git(home, clone, ['rev-parse', 'main'])).trim(), (await git(home, source, ['rev-parse', 'main'])).trim(), `${name} round trip`);
    };

    await roundTrip('warmup', WARMUP_BYTES);
    const baseline = peakRssBytes(pid);
    await roundTrip('large', REPO_BYTES);
    const growth = peakRssBytes(pid) - baseline;
    t.comment(`gateway peak RSS grew by ${(growth / MiB).toFixed(1)} MiB for a ${REPO_BYTES / MiB} MiB push and clone`);
    t.ok(growth < REPO_BYTES / 2, 'peak RSS grows by less than half the repository size');
  });
}

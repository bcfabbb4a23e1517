// A ~100 MB repository of incompressible blobs clones through the gateway
// while the storage node's RSS stays far below the repository's size: the
// pack streams through with backpressure instead of being held.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { generateRepo } from '../../bench/gitaly/generate-repo.js';
import { git, seedWorkRepo, tempDir } from './fixtures/git.js';
import { startGateway } from './fixtures/gateway.js';
import { distAvailable, startProcessNode } from './fixtures/node.js';
import { rssBytes, samplePeakRss } from './fixtures/rss.js';
import { Rpc } from './fixtures/rpc.js';

const MIB = 1024 * 1024;
const REPO_BYTES = 100 * MIB;

if (!distAvailable()) {
  t.plan(0, 'dist/ is missing: run `npm run build` first (npm test does)');
} else {
  const node = await startProcessNode();
  const gateway = await startGateway(node.address);
  const rpc = new Rpc(node.address);
  const scratch = await tempDir('large-clone-');
  t.teardown(async () => {
    rpc.close();
    await gateway.close();
    await node.close();
    await rm(scratch, { recursive: true, force: true });
  });
  const storage = node.storages['default'] as string;

  t.test('clone of a 100 MB repository; node RSS grows by far less', async (t) => {
    const big = await generateRepo(path.join(storage, 'big.git'), { totalBytes: REPO_BYTES });
    // Warm up every code path on a small repository first.
    const small = await seedWorkRepo();
    await rpc.unary('/gitaly.RepositoryService/CreateRepository', { repository: { storage_name: 'default', relative_path: 'small.git' } });
    await git(small.dir, 'push', '-q', `${gateway.url}/small.git`, 'main');
    await git(scratch, 'clone', '-q', '--bare', `${gateway.url}/small.git`, 'small-clone.git');
    const baseline = await rssBytes(node.pid);
    const sampler = samplePeakRss(node.pid);
    await git(scratch, 'clone', '-q', '--bare', `${gateway.url}/big.git`, 'big-clone.git');
    const peak = await sampler.stop();
    const growth = peak - baseline;
    t.comment(`node RSS: baseline ${(baseline / MIB).toFixed(1)} MiB, peak ${(peak / MIB).toFixed(1)} MiB, growth ${(growth / MIB).toFixed(1)} MiB for ${(big.totalBlobBytes / MIB).toFixed(0)} MiB cloned`);
    t.equal(await git(path.join(scratch, 'big-clone.git'), 'rev-parse', 'main'), big.head, 'the clone has the repository');
    // Holding the pack would grow RSS by at least its size; what remains is
    // buffers awaiting garbage collection (about 30 MiB measured).
    t.ok(growth < big.totalBlobBytes / 2, `RSS growth ${(growth / MIB).toFixed(1)} MiB stays below half the repository`);
  });
}

// The whole chain of the write-log split-brain check on a real local
// cluster: storage nodes started with write logs, marked writes sent straight
// to two nodes as if both were primary of one generation, the harness's
// reader, and the checker that must flag it.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import { splitBrainFromWriteLogs } from '../../../jepsen/checker/index.js';
import { readStorageWriteLogs } from '../../../jepsen/harness/storage-write-logs.js';
import { withWriteMarker } from '../../../src/gitaly/index.js';
import { LocalCluster } from '../../../src/local-cluster/index.js';
import { Rpc } from '../../gitaly/fixtures/rpc.js';

t.test('two storages writing one generation as primary are caught from their write logs', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'write-log-cluster-'));
  await chmod(dir, 0o755);
  const cluster = await LocalCluster.start({ dir, routers: 1, storages: 3, storageWriteLogs: true });
  const rpcs = cluster.storages.map((s) => new Rpc(s.address, cluster.layout.token));
  t.teardown(async () => {
    for (const rpc of rpcs) rpc.close();
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  });
  t.ok(cluster.storages.every((s) => s.writeLog !== undefined && s.writeLog.startsWith(dir)), 'every node has a write log in its folder');
  const write = (i: number, repositoryId: number, generation: number, primary: boolean) => {
    const storage = cluster.storages[i]!;
    const marker = withWriteMarker(new grpc.Metadata(), { repositoryId, generation, primary, router: 'praefect-1' });
    return rpcs[i]!.unary('/gitaly.RepositoryService/CreateRepository', { repository: { storage_name: storage.name, relative_path: `@cluster/repositories/t/${repositoryId}-${generation}` } }, marker);
  };
  await write(0, 1, 0, true);
  await write(1, 1, 0, false);
  await write(2, 1, 0, false);
  t.ok(splitBrainFromWriteLogs(readStorageWriteLogs(cluster.storages).lines).valid, 'one primary and two secondaries: valid');

  await write(1, 1, 1, true);
  await write(2, 1, 1, true);
  const logs = readStorageWriteLogs(cluster.storages);
  t.equal(logs.lines.length, 5);
  t.same(logs.unreadable, []);
  const result = splitBrainFromWriteLogs(logs.lines);
  t.notOk(result.valid);
  t.match(result.violations, [{ repositoryId: 1, generation: 1, storages: ['gitaly-2', 'gitaly-3'], lines: [{ source: 'gitaly-2' }, { source: 'gitaly-3' }] }]);
});

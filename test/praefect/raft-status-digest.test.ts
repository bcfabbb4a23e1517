// RaftStatus with_digest on real routers: every router that applied the same
// index reports the same state digest; without the flag, none is computed.
import t from 'tap';
import type { RaftStatusResponse } from '../../src/admin/index.js';
import { commitFile, repo, startCluster, waitFor } from './fixtures/cluster.js';

t.test('routers at one applied index report one state digest', async (t) => {
  const { admins, rpcs } = await startCluster(t);
  await rpcs[0]!.unary('/gitaly.RepositoryService/CreateRepository', { repository: repo('digest.git') });
  await commitFile(rpcs[1]!, 'digest.git', 'main', 'a.txt', 'a\n');

  const plain = await admins[0]!.raftStatus();
  t.equal(plain.state_digest, '', 'no digest unless asked');
  t.equal(plain.digest_index, 0);

  // Routers apply at their own pace and health updates keep committing: gather
  // samples until one index has been seen on every router.
  const seen = new Map<number, Map<string, string>>();
  const common = await waitFor('every router digested at one index', async () => {
    const statuses: RaftStatusResponse[] = await Promise.all(admins.map((a) => a.raftStatus({ with_digest: true })));
    for (const s of statuses) {
      const byRouter = seen.get(s.digest_index) ?? new Map<string, string>();
      byRouter.set(s.router, s.state_digest);
      seen.set(s.digest_index, byRouter);
      if (byRouter.size === admins.length) return { index: s.digest_index, digests: [...byRouter.values()] };
    }
    return undefined;
  });
  t.ok(common.index > 0, `index ${common.index}`);
  t.match(common.digests[0], /^[0-9a-f]{64}$/);
  t.same(new Set(common.digests).size, 1, 'one digest at that index');
  for (const [index, byRouter] of seen) t.equal(new Set(byRouter.values()).size, 1, `one digest among the routers seen at index ${index}`);
});

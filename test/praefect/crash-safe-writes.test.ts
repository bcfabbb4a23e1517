// DESIGN §10, issue 7 §3: a router SIGKILLed after the primary committed a
// write but before the generation bump. The stale write intent is found and
// settled by the Raft leader, the replicas end up identical, and reads never
// alternate between the two versions meanwhile.
import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import { Rpc } from '../gitaly/fixtures/rpc.js';
import { branchCommit, commitFile, repo, startCluster, waitFor } from './fixtures/cluster.js';

t.test('a router killed between the commit and the bump', async (t) => {
  const tc = await startCluster(t, { env: (name) => (name === 'praefect-1' ? { PRAEFECT_FAILPOINTS: 'before-bump=kill' } : undefined) });
  const [doomed, b, c] = tc.rpcs as [Rpc, Rpc, Rpc];
  await b.unary('/gitaly.RepositoryService/CreateRepository', { repository: repo('crash.git') });
  const first = await commitFile(b, 'crash.git', 'main', 'one.txt', '1\n');
  await waitFor('replicas up to date', async () => {
    const meta = await tc.admins[1]!.repositoryMetadata({ virtual_storage: 'default', relative_path: 'crash.git', fresh: true });
    return meta.replicas.every((r) => r.generation === meta.generation) ? meta : undefined;
  });

  const outcome = await commitFile(doomed, 'crash.git', 'main', 'two.txt', '2\n').then(() => grpc.status.OK, (e: grpc.ServiceError) => e.code);
  t.not(outcome, grpc.status.OK, 'the client of the dead router never got an acknowledgement');
  await waitFor('router 1 to be gone', async () => (tc.cluster.routers[0]!.process.running ? undefined : true));

  const seen: string[] = [];
  const settled = await waitFor(
    'the stale intent settled and every replica identical',
    async () => {
      for (const rpc of [b, c]) {
        const head = await branchCommit(rpc, 'crash.git', 'main').catch(() => undefined);
        if (head !== undefined && seen.at(-1) !== head) seen.push(head);
      }
      const meta = await tc.admins[1]!.repositoryMetadata({ virtual_storage: 'default', relative_path: 'crash.git', fresh: true });
      return meta.write_intents === 0 && meta.replicas.every((r) => r.generation === meta.generation) ? meta : undefined;
    },
    90_000,
    100,
  );
  // The unacknowledged write may show from the first read on (every replica took it in its transaction), or later: never undone.
  t.ok(seen.length <= 2, `reads changed version at most once, never back: ${seen.join(' -> ')}`);
  if (seen.length === 2) t.equal(seen[0], first, 'a change of version was from the acknowledged state to the new one');
  const sums = new Set<string>();
  for (const storage of tc.cluster.storages) {
    const rpc = new Rpc(storage.address, tc.cluster.layout.token);
    const { checksum } = await rpc.unary<{ checksum: string }>('/gitaly.RepositoryService/CalculateChecksum', { repository: { storage_name: storage.name, relative_path: settled.replica_path } });
    rpc.close();
    sums.add(checksum);
  }
  t.equal(sums.size, 1, 'the three replicas have one checksum');
  const final = await branchCommit(c, 'crash.git', 'main');
  t.equal(final, seen.at(-1), 'the last version read is what every replica holds');
});

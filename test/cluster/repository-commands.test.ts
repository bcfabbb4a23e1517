import t from 'tap';
import { derivedReplicaPath } from '../../src/cluster/index.js';
import { Harness } from './harness.js';

t.test('create records the repository: primary and created secondaries on generation 0, the rest assigned without a replica', async (t) => {
  const h = new Harness();
  h.create(1, 'g1', ['g1', 'g2', 'g3'], ['g2']);
  t.strictSame(h.view.repository(1), {
    repositoryId: 1,
    virtualStorage: 'default',
    relativePath: 'repo-1.git',
    replicaPath: '@cluster/custom/1',
    primary: 'g1',
    assigned: ['g1', 'g2', 'g3'],
    generations: { g1: 0, g2: 0 },
    latestGeneration: 0,
    writeIntents: [],
  });
  t.equal(h.view.repositoryId('default', 'repo-1.git'), 1);
  t.equal(h.view.repositoryId('other', 'repo-1.git'), undefined);
  t.equal(h.view.repositoryCount(), 1);
});

t.test('create refuses a taken id or path, naming the holder', async (t) => {
  const h = new Harness();
  h.create(1, 'g1', ['g1']);
  const base = { type: 'create-repository', virtualStorage: 'default', replicaPath: 'x', primary: 'g1', assigned: [], updatedSecondaries: [] } as const;
  t.strictSame(h.run('r1', { ...base, repositoryId: 1, relativePath: 'other.git' }), { status: 'conflict', reason: 'id-taken', existingRepositoryId: 1 });
  t.strictSame(h.run('r1', { ...base, repositoryId: 2, relativePath: 'repo-1.git' }), { status: 'conflict', reason: 'path-taken', existingRepositoryId: 1 });
  t.strictSame(h.run('r1', { ...base, repositoryId: 2, relativePath: 'repo-1.git', virtualStorage: 'other' }), { status: 'ok' }, 'paths are per virtual storage');
});

t.test("upstream's derived replica path is not stored, but read back the same", async (t) => {
  const h = new Harness();
  t.equal(derivedReplicaPath(1), '@cluster/repositories/6b/86/1', 'sha256("1") starts 6b86');
  h.run('r1', { type: 'create-repository', repositoryId: 1, virtualStorage: 'default', relativePath: 'a.git', replicaPath: derivedReplicaPath(1), primary: 'g1', assigned: [], updatedSecondaries: [] });
  t.equal(h.state.repository(1)!.customReplicaPath, undefined);
  t.equal(h.view.repository(1)!.replicaPath, '@cluster/repositories/6b/86/1');
});

t.test('delete forgets the repository and its path', async (t) => {
  const h = new Harness();
  h.create(1, 'g1', ['g1']);
  t.strictSame(h.run('r1', { type: 'delete-repository', repositoryId: 1 }), { status: 'ok' });
  t.equal(h.view.repository(1), undefined);
  t.equal(h.view.repositoryId('default', 'repo-1.git'), undefined);
  t.strictSame(h.run('r1', { type: 'delete-repository', repositoryId: 1 }), { status: 'not-found', repositoryId: 1 });
  h.create(1, 'g2', ['g2']);
  t.equal(h.view.repository(1)!.primary, 'g2', 'the id and path can be used again');
});

t.test('set-assignments never leaves the primary unassigned; unassigned replicas keep their generation', async (t) => {
  const h = new Harness();
  h.create(1, 'g1', ['g1', 'g2'], ['g2']);
  t.strictSame(h.run('r1', { type: 'set-assignments', repositoryId: 1, assigned: ['g2', 'g3'] }), { status: 'conflict', reason: 'primary-not-assigned', currentPrimary: 'g1' });
  t.strictSame(h.run('r1', { type: 'set-assignments', repositoryId: 1, assigned: ['g1', 'g3'] }), { status: 'ok', assigned: ['g1', 'g3'] });
  const repo = h.view.repository(1)!;
  t.strictSame([repo.assigned, repo.generations], [['g1', 'g3'], { g1: 0, g2: 0 }]);
  t.strictSame(h.view.outdatedReplicas(1).map((r) => [r.storage, r.generation]), [['g3', -1]], 'g3 is expected and missing; g2 is no longer expected');
  t.strictSame(h.run('r1', { type: 'set-assignments', repositoryId: 1, assigned: [] }), { status: 'ok', assigned: [] }, 'no assignments: every replica holder is eligible');
  t.strictSame(h.view.repository(1)!.assigned, []);
  t.strictSame(h.run('r1', { type: 'set-assignments', repositoryId: 9, assigned: [] }), { status: 'not-found', repositoryId: 9 });
});

t.test('set-replication-factor keeps the primary, then assigned, then newest replicas, then configuration order', async (t) => {
  const h = new Harness();
  const order = ['g1', 'g2', 'g3', 'g4'];
  h.create(1, 'g3', ['g3']);
  const factor = (n: number, storageOrder = order) => h.run('r1', { type: 'set-replication-factor', repositoryId: 1, replicationFactor: n, storageOrder });
  t.strictSame(factor(2), { status: 'ok', assigned: ['g1', 'g3'] }, 'the primary plus the first in configuration order');
  h.run('r1', { type: 'set-replica-generation', repositoryId: 1, storage: 'g4', generation: 0, expectedGeneration: -1 });
  t.strictSame(factor(3), { status: 'ok', assigned: ['g1', 'g3', 'g4'] }, 'g4 holds a replica, so it beats g2');
  t.strictSame(factor(2), { status: 'ok', assigned: ['g3', 'g4'] }, 'shrinking drops the assigned storage with the older replica');
  t.strictSame(factor(1), { status: 'ok', assigned: ['g3'] }, 'the primary always stays');
  t.strictSame(factor(5), { status: 'conflict', reason: 'not-enough-storages', currentPrimary: 'g3' });
  t.strictSame(factor(2, ['g1', 'g2']), { status: 'ok', assigned: ['g1', 'g3'] }, 'the primary stays even when the order omits it');
});

// The repository catalogue on a real server, and the replica path rule.
import t from 'tap';
import {
  RepositoryExistsError,
  RepositoryStore,
  derivePoolPath,
  deriveReplicaPath,
  isRailsPoolPath,
  replicaPathFor,
} from '../../src/db/index.js';
import { freshDatabase, startTestServer } from './test-server.js';

const server = await startTestServer(t);

t.test('replica paths match upstream: first two SHA-256 bytes of the decimal id, two hex digits each', async (t) => {
  // Vectors from `printf %s <id> | sha256sum`, independent of our code.
  const vectors: Array<[number, string]> = [
    [1, '@cluster/repositories/6b/86/1'],
    [2, '@cluster/repositories/d4/73/2'],
    [3, '@cluster/repositories/4e/07/3'],
    [39, '@cluster/repositories/0b/91/39'],
    [1000, '@cluster/repositories/40/51/1000'],
    [65536, '@cluster/repositories/0f/25/65536'],
    [9007199254740991, '@cluster/repositories/f4/0b/9007199254740991'],
  ];
  for (const [id, path] of vectors) t.equal(deriveReplicaPath(id), path, `id ${id}`);
  t.equal(derivePoolPath(2), '@cluster/pools/d4/73/2');
  t.throws(() => deriveReplicaPath(0), RangeError);
  t.throws(() => deriveReplicaPath(1.5), RangeError);
});

t.test('Rails object pools get a pool path; everything else a repository path', async (t) => {
  const hash = 'aabb' + '0'.repeat(60);
  t.ok(isRailsPoolPath(`@pools/aa/bb/${hash}.git`));
  t.notOk(isRailsPoolPath(`@pools/aa/cc/${hash}.git`), 'the folders must be the hash prefix');
  t.notOk(isRailsPoolPath(`@hashed/aa/bb/${hash}.git`));
  t.equal(replicaPathFor(2, `@pools/aa/bb/${hash}.git`), '@cluster/pools/d4/73/2');
  t.equal(replicaPathFor(2, 'group/project.git'), '@cluster/repositories/d4/73/2');
});

t.test('create, look up, rename, delete', async (t) => {
  const store = new RepositoryStore(await freshDatabase(t, server));
  const created = await store.create('default', 'group/project.git');
  t.match(created, {
    virtualStorage: 'default',
    relativePath: 'group/project.git',
    replicaPath: deriveReplicaPath(created.repositoryId),
  });
  t.ok(created.repositoryId >= 1);
  t.same(await store.get('default', 'group/project.git'), created);
  t.same(await store.getById(created.repositoryId), created);
  t.equal(await store.get('other', 'group/project.git'), undefined, 'virtual storages are separate namespaces');

  await t.rejects(store.create('default', 'group/project.git'), RepositoryExistsError);
  const elsewhere = await store.create('other', 'group/project.git');
  t.not(elsewhere.repositoryId, created.repositoryId);

  const renamed = await store.rename('default', 'group/project.git', 'group/renamed.git');
  t.match(renamed, { repositoryId: created.repositoryId, replicaPath: created.replicaPath });
  t.equal(await store.get('default', 'group/project.git'), undefined);
  await store.create('default', 'taken.git');
  await t.rejects(store.rename('default', 'group/renamed.git', 'taken.git'), {
    name: 'RepositoryExistsError',
    relativePath: 'taken.git',
  });

  t.same(await store.delete('default', 'group/renamed.git'), { ...created, relativePath: 'group/renamed.git' });
  t.equal(await store.delete('default', 'group/renamed.git'), undefined, 'a second delete finds nothing');
  t.equal(await store.getById(created.repositoryId), undefined);
});

t.test('a reserved id can be recorded later with insert, with an explicit replica path too', async (t) => {
  const store = new RepositoryStore(await freshDatabase(t, server));
  const id = await store.reserveId();
  const record = await store.insert({ repositoryId: id, virtualStorage: 'default', relativePath: 'a.git' });
  t.equal(record.replicaPath, deriveReplicaPath(id));
  const legacy = await store.insert({
    repositoryId: await store.reserveId(),
    virtualStorage: 'default',
    relativePath: 'legacy.git',
    replicaPath: 'legacy.git',
  });
  t.equal(legacy.replicaPath, 'legacy.git', 'a repository tracked where it already lives');
});

t.test('ids are unique under concurrent creation, and one path is created only once', async (t) => {
  const store = new RepositoryStore(await freshDatabase(t, server, { maxConnections: 8 }));
  const created = await Promise.all(Array.from({ length: 200 }, (_, i) => store.create('default', `repo-${i}.git`)));
  const ids = new Set(created.map((r) => r.repositoryId));
  t.equal(ids.size, 200, '200 distinct ids');
  t.equal(new Set(created.map((r) => r.replicaPath)).size, 200, '200 distinct replica paths');

  const racing = await Promise.allSettled(Array.from({ length: 20 }, () => store.create('default', 'contended.git')));
  const won = racing.filter((r) => r.status === 'fulfilled');
  const lost = racing.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  t.equal(won.length, 1, 'exactly one creation wins');
  t.ok(
    lost.every((r) => r.reason instanceof RepositoryExistsError),
    'the others get RepositoryExistsError',
  );
});

t.test('list pages in id order, per virtual storage; tracked replica paths', async (t) => {
  const store = new RepositoryStore(await freshDatabase(t, server));
  const a = [];
  for (let i = 0; i < 5; i += 1) a.push(await store.create('a', `r${i}.git`));
  await store.create('b', 'r0.git');
  const first = await store.list({ virtualStorage: 'a', limit: 3 });
  const rest = await store.list({ virtualStorage: 'a', afterId: first.at(-1)?.repositoryId, limit: 3 });
  t.same(
    [...first, ...rest].map((r) => r.relativePath),
    ['r0.git', 'r1.git', 'r2.git', 'r3.git', 'r4.git'],
  );
  t.equal((await store.list()).length, 6, 'all virtual storages when none is given');
  const tracked = await store.trackedReplicaPaths('a', [a[0]?.replicaPath ?? '', '@cluster/repositories/00/00/999']);
  t.same([...tracked], [a[0]?.replicaPath]);
});

// append and set-full: each repository's branch is a list of unique ids.
// An append (or add) is a UserCommitFiles commit whose subject is the id; a
// read lists the branch's first-parent subjects. append is checked for
// linearizability as a list; set-full for durability of acknowledged adds.
import { servedRead } from '../stale-read.js';
import type { Prng } from '../../net/index.js';
import { KeyPool } from './key-pool.js';
import type { KeyedWorkloadOptions } from './register-workload.js';
import { repositoryOf, type ClusterClients, type PlannedOp, type Workload } from './workload.js';

const ROOT_SUBJECT = 'root';

interface ListShape {
  readonly name: 'append' | 'set-full';
  readonly writeF: 'append' | 'add';
  readonly branch: string;
  readonly readShare: number;
}

export function appendWorkload(clients: ClusterClients, options: KeyedWorkloadOptions): Workload {
  return listWorkload(clients, options, { name: 'append', writeF: 'append', branch: 'list', readShare: 0.5 });
}

export function setFullWorkload(clients: ClusterClients, options: KeyedWorkloadOptions): Workload {
  return listWorkload(clients, options, { name: 'set-full', writeF: 'add', branch: 'set', readShare: 0.25 });
}

function listWorkload(clients: ClusterClients, options: KeyedWorkloadOptions, shape: ListShape): Workload {
  let nextId = 0;
  const pool = new KeyPool<true>({
    ...options,
    create: async (key, rng) => {
      const gitaly = clients.gitaly(rng.pick(clients.routers));
      const repository = repositoryOf(clients, key);
      await gitaly.createRepository(repository);
      await gitaly.commitFile(repository, shape.branch, 'root', ROOT_SUBJECT);
      return true;
    },
  });
  const read = (key: string): PlannedOp => ({
    f: 'read',
    key,
    value: null,
    mutates: false,
    run: async (router) => {
      const { subjects, stale } = await clients.gitaly(router).commitSubjects(repositoryOf(clients, key), shape.branch);
      return servedRead(subjects.filter((s) => s !== ROOT_SUBJECT).map(Number), stale);
    },
  });
  return {
    name: shape.name,
    keys: () => pool.keys(),
    async next(rng: Prng) {
      const live = await pool.take(rng);
      if (live === undefined) return undefined;
      if (rng.next() < shape.readShare) return read(live.key);
      const id = ++nextId;
      return {
        f: shape.writeF,
        key: live.key,
        value: id,
        mutates: true,
        run: async (router) => void (await clients.gitaly(router).commitFile(repositoryOf(clients, live.key), shape.branch, `ids/${id}`, String(id))),
      };
    },
    finalReads: () => pool.keys().map(read),
  };
}

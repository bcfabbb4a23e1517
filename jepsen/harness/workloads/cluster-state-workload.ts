// cluster-state: a repository's {primary, generation} as a register. Reads
// are fresh RepositoryMetadata calls on the admin API of any router. A write
// is a Gitaly mutator (which may elect a new primary first, racing the
// nemesis's failovers) followed by a fresh read on the same router; its ok
// value is what that read saw. Writes to one key never overlap (a per-key
// lock), so nothing but this write changes the value between the two.
import type { Prng } from '../../net/index.js';
import { KeyPool } from './key-pool.js';
import type { KeyedWorkloadOptions } from './register-workload.js';
import { repositoryOf, type ClusterClients, type PlannedOp, type Workload } from './workload.js';

export interface ClusterStateValue {
  primary: string;
  generation: number;
}

export function clusterStateWorkload(clients: ClusterClients, options: KeyedWorkloadOptions): Workload {
  const writing = new Set<string>();
  let nextId = 0;
  const pool = new KeyPool<true>({
    ...options,
    // The creation is the key's first write: the register starts at the state it made.
    create: async (key, rng) => {
      const router = rng.pick(clients.routers);
      const create = async (): Promise<ClusterStateValue> => {
        await clients.gitaly(router).createRepository(repositoryOf(clients, key));
        return metadata(router, key);
      };
      await (options.recordSetup === undefined ? create() : options.recordSetup('write', key, create));
      return true;
    },
  });
  async function metadata(router: string, key: string): Promise<ClusterStateValue> {
    const m = await clients.admin(router).repositoryMetadata({ virtual_storage: clients.virtualStorage, relative_path: key, fresh: true });
    return { primary: m.primary, generation: Number(m.generation) };
  }
  const read = (key: string): PlannedOp => ({ f: 'read', key, value: null, mutates: false, run: (router) => metadata(router, key) });
  return {
    name: 'cluster-state',
    keys: () => pool.keys(),
    async next(rng: Prng) {
      const live = await pool.take(rng);
      if (live === undefined) return undefined;
      const key = live.key;
      if (writing.has(key) || rng.next() < 0.6) return read(key);
      writing.add(key);
      const id = ++nextId;
      return {
        f: 'write',
        key,
        value: null,
        mutates: true,
        run: async (router) => {
          try {
            await clients.gitaly(router).commitFile(repositoryOf(clients, key), 'main', `w/${id}`, `write ${id}`);
            return await metadata(router, key);
          } finally {
            writing.delete(key);
          }
        },
      };
    },
    finalReads: () => pool.keys().map(read),
  };
}

// register: each repository's `register` branch is a register over a few
// values (commits made when the repository is set up). Writes point the
// branch at a value's commit with WriteRef, a cas does so only from the
// expected commit, reads resolve the branch with FindBranch.
import type { Prng } from '../../net/index.js';
import { KeyPool } from './key-pool.js';
import { repositoryOf, type ClusterClients, type PlannedOp, type Workload } from './workload.js';

const REGISTER_REF = 'refs/heads/register';
const VALUE_COUNT = 5;

interface RegisterKey {
  /** Commit id of each value 0..VALUE_COUNT-1. */
  readonly commits: readonly string[];
}

export interface KeyedWorkloadOptions {
  readonly prefix: string;
  readonly liveKeys: number;
  readonly opsPerKey: number;
  readonly onSetupFailure?: (key: string, error: unknown) => void;
  /** Runs a setup step as an operation of the history (invoke, then ok or info). */
  readonly recordSetup?: <T>(f: string, key: string, run: () => Promise<T>) => Promise<T>;
}

export function registerWorkload(clients: ClusterClients, options: KeyedWorkloadOptions): Workload {
  const pool = new KeyPool<RegisterKey>({
    ...options,
    create: async (key, rng) => {
      const gitaly = clients.gitaly(rng.pick(clients.routers));
      const repository = repositoryOf(clients, key);
      await gitaly.createRepository(repository);
      const commits: string[] = [];
      for (let v = 0; v < VALUE_COUNT; v++) commits.push(await gitaly.commitFile(repository, 'values', `value-${v}`, `value ${v}`));
      return { commits };
    },
  });
  const read = (key: string, setup: RegisterKey): PlannedOp => ({
    f: 'read',
    key,
    value: null,
    mutates: false,
    run: async (router) => valueOf(setup, await clients.gitaly(router).findBranch(repositoryOf(clients, key), 'register')),
  });
  return {
    name: 'register',
    keys: () => pool.keys(),
    async next(rng: Prng) {
      const live = await pool.take(rng);
      if (live === undefined) return undefined;
      const { key, setup } = live;
      const roll = rng.next();
      if (roll < 0.5) return read(key, setup);
      const value = rng.int(VALUE_COUNT);
      if (roll < 0.8) {
        return { f: 'write', key, value, mutates: true, run: async (router) => void (await clients.gitaly(router).writeRef(repositoryOf(clients, key), REGISTER_REF, setup.commits[value]!)) };
      }
      const expected = rng.int(VALUE_COUNT);
      return {
        f: 'cas',
        key,
        value: [expected, value],
        mutates: true,
        run: async (router) => void (await clients.gitaly(router).writeRef(repositoryOf(clients, key), REGISTER_REF, setup.commits[value]!, setup.commits[expected]!)),
      };
    },
    finalReads: () => pool.keys().flatMap((key) => {
      const setup = pool.setupOf(key);
      return setup === undefined ? [] : [read(key, setup)];
    }),
  };
}

/** The value whose commit the branch points at; null when unset; a commit no value has is reported as such (and fails the check). */
function valueOf(setup: RegisterKey, commit: string | null): unknown {
  if (commit === null) return null;
  const value = setup.commits.indexOf(commit);
  return value >= 0 ? value : `unknown commit ${commit}`;
}

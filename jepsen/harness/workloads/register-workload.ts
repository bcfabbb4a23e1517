// register: each repository's `register` branch is a register of unique
// values. A write makes a commit whose subject is a fresh id on top of the
// repository's root commit and moves the branch there whatever it held
// (UserCommitFiles with force); a cas moves it only from the commit of the
// expected value (expected_old_oid); a read is FindBranch, whose commit
// subject is the value. Unique values let the checker drop unknown writes
// nobody read, which keeps the search small.
import { servedRead } from '../stale-read.js';
import type { Prng } from '../../net/index.js';
import { KeyPool } from './key-pool.js';
import { repositoryOf, type ClusterClients, type PlannedOp, type Workload } from './workload.js';

const REGISTER_BRANCH = 'register';
const ZERO_OID = '0'.repeat(40);

interface RegisterKey {
  readonly root: string;
  /** Commit of each value this key's ok ops revealed (null: the branch absent). */
  readonly commits: Map<number | null, string>;
}

export interface KeyedWorkloadOptions {
  readonly prefix: string;
  readonly liveKeys: number;
  readonly opsPerKey: number;
  /** Repositories made ahead, so rotation goes on while creation fails (PostgreSQL down). */
  readonly spareKeys?: number;
  readonly onSetupFailure?: (key: string, error: unknown) => void;
  /** Runs a setup step as an operation of the history (invoke, then ok or info). */
  readonly recordSetup?: <T>(f: string, key: string, run: () => Promise<T>) => Promise<T>;
}

export function registerWorkload(clients: ClusterClients, options: KeyedWorkloadOptions): Workload {
  let nextValue = 0;
  const pool = new KeyPool<RegisterKey>({
    ...options,
    create: async (key, rng) => {
      const gitaly = clients.gitaly(rng.pick(clients.routers));
      const repository = repositoryOf(clients, key);
      await gitaly.createRepository(repository);
      const root = await gitaly.commitFile(repository, 'root', 'root', 'root');
      return { root, commits: new Map([[null, ZERO_OID]]) };
    },
  });
  const read = (key: string, setup: RegisterKey): PlannedOp => ({
    f: 'read',
    key,
    value: null,
    mutates: false,
    run: async (router) => {
      const { commit, stale } = await clients.gitaly(router).findBranch(repositoryOf(clients, key), REGISTER_BRANCH);
      if (commit === null) return servedRead(null, stale);
      const value = Number(commit.subject);
      if (!Number.isInteger(value)) return `unexpected commit ${commit.id} "${commit.subject}"`;
      setup.commits.set(value, commit.id);
      return servedRead(value, stale);
    },
  });
  const write = (key: string, setup: RegisterKey, f: 'write' | 'cas', value: unknown, expectedOldOid?: string): PlannedOp => {
    const id = Array.isArray(value) ? (value[1] as number) : (value as number);
    return {
      f,
      key,
      value,
      mutates: true,
      run: async (router) => {
        const commit = await clients.gitaly(router).commitFile(repositoryOf(clients, key), REGISTER_BRANCH, `v/${id}`, String(id), {
          startSha: setup.root,
          force: true,
          ...(expectedOldOid === undefined ? {} : { expectedOldOid }),
        });
        setup.commits.set(id, commit);
      },
    };
  };
  return {
    name: 'register',
    keys: () => pool.keys(),
    async next(rng: Prng) {
      const live = await pool.take(rng);
      if (live === undefined) return undefined;
      const { key, setup } = live;
      const roll = rng.next();
      if (roll < 0.5) return read(key, setup);
      const value = ++nextValue;
      if (roll < 0.8) return write(key, setup, 'write', value);
      const known = [...setup.commits.keys()];
      const expected = known[known.length - 1 - rng.int(Math.min(2, known.length))] ?? null;
      return write(key, setup, 'cas', [expected, value], setup.commits.get(expected));
    },
    finalReads: () => pool.keys().flatMap((key) => {
      const setup = pool.setupOf(key);
      return setup === undefined ? [] : [read(key, setup)];
    }),
  };
}

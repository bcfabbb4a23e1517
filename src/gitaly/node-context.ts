// What every service of the storage node shares.
import type { Logger } from 'pino';
import type { GitalyConfig } from './config.js';
import type { GitRunner } from './git-runner.js';
import type { KeyedMutex } from './keyed-mutex.js';
import type { StorageLocator } from './locator.js';

export interface NodeContext {
  config: GitalyConfig;
  locator: StorageLocator;
  git: GitRunner;
  log: Logger;
  /** Serializes creation, removal and replication per repository path. */
  repoLocks: KeyedMutex;
  /** Size of data chunks streamed to clients. */
  chunkBytes: number;
  version: string;
}

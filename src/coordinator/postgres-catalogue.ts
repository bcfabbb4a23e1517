import type { RepositoryStore } from '../db/index.js';
import type { RepositoryCatalogue } from './router-deps.js';

/** The catalogue over the repositories table. */
export class PostgresCatalogue implements RepositoryCatalogue {
  constructor(private readonly store: RepositoryStore) {}

  async create(virtualStorage: string, relativePath: string): Promise<{ repositoryId: number; replicaPath: string }> {
    const record = await this.store.create(virtualStorage, relativePath);
    return { repositoryId: record.repositoryId, replicaPath: record.replicaPath };
  }

  async delete(virtualStorage: string, relativePath: string): Promise<void> {
    await this.store.delete(virtualStorage, relativePath);
  }
}

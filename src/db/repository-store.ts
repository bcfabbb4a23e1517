// The repository catalogue: the id PostgreSQL allocates, which keys all of the
// Raft-replicated state, and the mapping from a client's (virtual storage,
// relative path) to the replica path used on the storage nodes.
import { QueryFailedError, RepositoryExistsError } from './errors.js';
import type { Queryable } from './pool.js';
import { replicaPathFor } from './replica-path.js';
import { toId, violation } from './row-values.js';

export interface RepositoryRecord {
  repositoryId: number;
  virtualStorage: string;
  relativePath: string;
  replicaPath: string;
  createdAt: Date;
}

export interface NewRepository {
  repositoryId: number;
  virtualStorage: string;
  relativePath: string;
  /** Defaults to the path derived from the id. */
  replicaPath?: string;
}

export interface ListOptions {
  virtualStorage?: string;
  /** Keyset pagination: only ids greater than this. */
  afterId?: number;
  /** Default 1000. */
  limit?: number;
}

interface RepositoryRow {
  repository_id: string;
  virtual_storage: string;
  relative_path: string;
  replica_path: string;
  created_at: Date;
}

const COLUMNS = 'repository_id, virtual_storage, relative_path, replica_path, created_at';
const RELATIVE_PATH_KEY = 'repositories_virtual_storage_relative_path_key';

function toRecord(row: RepositoryRow): RepositoryRecord {
  return {
    repositoryId: toId(row.repository_id),
    virtualStorage: row.virtual_storage,
    relativePath: row.relative_path,
    replicaPath: row.replica_path,
    createdAt: row.created_at,
  };
}

export class RepositoryStore {
  constructor(private readonly db: Queryable) {}

  /**
   * Takes the next id from the sequence. An id reserved for a creation that
   * then fails is simply never used: ids need to be unique, not dense.
   */
  async reserveId(): Promise<number> {
    const result = await this.db.query<{ id: string }>(
      "SELECT nextval(pg_get_serial_sequence('repositories', 'repository_id')) AS id",
    );
    const row = result.rows[0];
    if (row === undefined) throw new QueryFailedError('nextval returned no row', undefined);
    return toId(row.id);
  }

  /** Records a repository under an id from reserveId(). */
  async insert(repo: NewRepository): Promise<RepositoryRecord> {
    const replicaPath = repo.replicaPath ?? replicaPathFor(repo.repositoryId, repo.relativePath);
    try {
      const result = await this.db.query<RepositoryRow>(
        `INSERT INTO repositories (repository_id, virtual_storage, relative_path, replica_path)
         VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
        [repo.repositoryId, repo.virtualStorage, repo.relativePath, replicaPath],
      );
      return toRecord(this.only(result.rows));
    } catch (err) {
      const { sqlState, constraint } = violation(err);
      if (sqlState === '23505' && constraint === RELATIVE_PATH_KEY) {
        throw new RepositoryExistsError(repo.virtualStorage, repo.relativePath, { cause: err });
      }
      throw err;
    }
  }

  /** Allocates an id and records the repository: RepositoryExistsError if the path is taken. */
  async create(virtualStorage: string, relativePath: string): Promise<RepositoryRecord> {
    const repositoryId = await this.reserveId();
    return this.insert({ repositoryId, virtualStorage, relativePath });
  }

  async get(virtualStorage: string, relativePath: string): Promise<RepositoryRecord | undefined> {
    const result = await this.db.query<RepositoryRow>(
      `SELECT ${COLUMNS} FROM repositories WHERE virtual_storage = $1 AND relative_path = $2`,
      [virtualStorage, relativePath],
    );
    return result.rows[0] && toRecord(result.rows[0]);
  }

  async getById(repositoryId: number): Promise<RepositoryRecord | undefined> {
    const result = await this.db.query<RepositoryRow>(`SELECT ${COLUMNS} FROM repositories WHERE repository_id = $1`, [
      repositoryId,
    ]);
    return result.rows[0] && toRecord(result.rows[0]);
  }

  /** Removes the record and returns it, or undefined if there was none. */
  async delete(virtualStorage: string, relativePath: string): Promise<RepositoryRecord | undefined> {
    const result = await this.db.query<RepositoryRow>(
      `DELETE FROM repositories WHERE virtual_storage = $1 AND relative_path = $2 RETURNING ${COLUMNS}`,
      [virtualStorage, relativePath],
    );
    return result.rows[0] && toRecord(result.rows[0]);
  }

  /** Changes the client-visible path only; the replicas stay where they are. */
  async rename(virtualStorage: string, from: string, to: string): Promise<RepositoryRecord | undefined> {
    try {
      const result = await this.db.query<RepositoryRow>(
        `UPDATE repositories SET relative_path = $3
         WHERE virtual_storage = $1 AND relative_path = $2 RETURNING ${COLUMNS}`,
        [virtualStorage, from, to],
      );
      return result.rows[0] && toRecord(result.rows[0]);
    } catch (err) {
      const { sqlState, constraint } = violation(err);
      if (sqlState === '23505' && constraint === RELATIVE_PATH_KEY) {
        throw new RepositoryExistsError(virtualStorage, to, { cause: err });
      }
      throw err;
    }
  }

  /** Oldest first, a page at a time: for list-untracked-repositories and reconciliation sweeps. */
  async list(options: ListOptions = {}): Promise<RepositoryRecord[]> {
    const result = await this.db.query<RepositoryRow>(
      `SELECT ${COLUMNS} FROM repositories
       WHERE ($1::text IS NULL OR virtual_storage = $1) AND repository_id > $2
       ORDER BY repository_id LIMIT $3`,
      [options.virtualStorage ?? null, options.afterId ?? 0, options.limit ?? 1000],
    );
    return result.rows.map(toRecord);
  }

  /** Which of these replica paths the catalogue knows: the rest on disk are untracked. */
  async trackedReplicaPaths(virtualStorage: string, replicaPaths: readonly string[]): Promise<Set<string>> {
    const result = await this.db.query<{ replica_path: string }>(
      'SELECT replica_path FROM repositories WHERE virtual_storage = $1 AND replica_path = ANY($2::text[])',
      [virtualStorage, replicaPaths],
    );
    return new Set(result.rows.map((row) => row.replica_path));
  }

  private only(rows: RepositoryRow[]): RepositoryRow {
    const row = rows[0];
    if (row === undefined) throw new QueryFailedError('INSERT … RETURNING returned no row', undefined);
    return row;
  }
}

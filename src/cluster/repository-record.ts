import { createHash } from 'node:crypto';
import type { ReplicaPairs } from './replica-set.js';

export const NO_STORAGE = -1;

/** A write announced before forwarding (DESIGN §10), cleared by its generation bump. */
export interface WriteIntent {
  readonly intentId: string;
  readonly router: string;
  /** The storage (interned id) the write goes to, and that storage's generation when routed. */
  readonly storage: number;
  readonly generation: number;
  /** Cluster time at which the intent applied: staleness is judged from it. */
  readonly recordedAtMs: number;
}

/**
 * One repository of the cluster state. Storages are interned ids within the
 * repository's virtual storage. Mutable on purpose: apply changes records in
 * place, and the state machines persist the repositories a batch touched.
 */
export class RepositoryRecord {
  constructor(
    readonly id: number,
    readonly virtualStorage: number,
    readonly relativePath: string,
    /** Undefined when it is upstream's derived path for the id (the usual case), to save memory. */
    readonly customReplicaPath: string | undefined,
    public primary: number,
    /**
     * The primary's generation when it took office or when its data was last
     * replaced by replication. A write routed with an older generation may have
     * landed on data that was replaced since, so its bump is refused.
     */
    public primaryBase: number,
    public replicas: ReplicaPairs,
    public intents: WriteIntent[] | undefined,
  ) {}

  get replicaPath(): string {
    return this.customReplicaPath ?? derivedReplicaPath(this.id);
  }
}

/** Upstream's replica path: `@cluster/repositories/<b0>/<b1>/<id>`, b0 and b1 the first bytes of SHA-256 of the decimal id. */
export function derivedReplicaPath(repositoryId: number): string {
  const digest = createHash('sha256').update(String(repositoryId)).digest('hex');
  return `@cluster/repositories/${digest.slice(0, 2)}/${digest.slice(2, 4)}/${repositoryId}`;
}

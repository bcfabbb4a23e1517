// Which storage node a health fact is about. Storages are named within a
// virtual storage, as upstream and src/cluster name them.

export interface StorageRef {
  readonly virtualStorage: string;
  readonly storage: string;
}

/** What the prober calls: the storage, where it listens, and the token it expects. */
export interface ProbeTarget extends StorageRef {
  /** As configured: tcp://host:port, tls://host:port, unix:/path or host:port. */
  readonly address: string;
  /** Internal v2 token secret; empty sends none. */
  readonly token: string;
}

/** A map key for a storage; "/" cannot occur in a configured name. */
export function storageKey(ref: StorageRef): string {
  return `${ref.virtualStorage}/${ref.storage}`;
}

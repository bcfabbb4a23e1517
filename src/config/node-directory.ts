// The storage nodes of the configuration, by virtual storage: where each one
// listens, its token, and the configuration order that breaks election ties
// (DESIGN §8). Storages are named within a virtual storage, as upstream does.
import type { VirtualStorageConfig } from './praefect-config.js';

/** How to reach one storage node. */
export interface NodeAddress {
  readonly virtualStorage: string;
  /** The storage's name on the node (the physical storage name in requests). */
  readonly storage: string;
  /** As configured: tcp://host:port, tls://host:port, unix:/path or host:port. */
  readonly address: string;
  /** v2 token secret toward the node; empty sends none. */
  readonly token: string;
}

export class NodeDirectory {
  private readonly byVirtualStorage = new Map<string, ReadonlyMap<string, NodeAddress>>();
  private readonly defaultFactors = new Map<string, number>();

  constructor(virtualStorages: readonly VirtualStorageConfig[]) {
    for (const vs of virtualStorages) {
      this.byVirtualStorage.set(vs.name, new Map(vs.nodes.map((n) => [n.storage, { virtualStorage: vs.name, storage: n.storage, address: n.address, token: n.token }])));
      this.defaultFactors.set(vs.name, vs.defaultReplicationFactor);
    }
  }

  virtualStorages(): string[] {
    return [...this.byVirtualStorage.keys()];
  }

  has(virtualStorage: string): boolean {
    return this.byVirtualStorage.has(virtualStorage);
  }

  /** The virtual storage's storages in configuration order; empty for an unknown one. */
  storages(virtualStorage: string): string[] {
    return [...(this.byVirtualStorage.get(virtualStorage)?.keys() ?? [])];
  }

  /** The virtual storage's nodes in configuration order. */
  nodes(virtualStorage: string): NodeAddress[] {
    return [...(this.byVirtualStorage.get(virtualStorage)?.values() ?? [])];
  }

  find(virtualStorage: string, storage: string): NodeAddress | undefined {
    return this.byVirtualStorage.get(virtualStorage)?.get(storage);
  }

  /** 0 means every node holds a replica. */
  defaultReplicationFactor(virtualStorage: string): number {
    return this.defaultFactors.get(virtualStorage) ?? 0;
  }

  all(): NodeAddress[] {
    return [...this.byVirtualStorage.values()].flatMap((nodes) => [...nodes.values()]);
  }
}

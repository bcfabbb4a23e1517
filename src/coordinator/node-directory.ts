// The storage nodes the router was configured with, by virtual storage: where
// each one listens, its token, and the configuration order that breaks
// election ties (DESIGN §8).
import type { VirtualStorageConfig } from '../config/index.js';
import type { RouteTarget } from '../proxy/index.js';

export interface StorageNode extends RouteTarget {
  readonly virtualStorage: string;
  readonly storage: string;
}

export class NodeDirectory {
  private readonly byVirtualStorage = new Map<string, readonly StorageNode[]>();
  private readonly defaultFactors = new Map<string, number>();

  constructor(virtualStorages: readonly VirtualStorageConfig[]) {
    for (const vs of virtualStorages) {
      const nodes = vs.nodes.map((n) => ({ virtualStorage: vs.name, storage: n.storage, address: n.address, ...(n.token === '' ? {} : { token: n.token }) }));
      this.byVirtualStorage.set(vs.name, nodes);
      this.defaultFactors.set(vs.name, vs.defaultReplicationFactor);
    }
  }

  virtualStorages(): string[] {
    return [...this.byVirtualStorage.keys()];
  }

  has(virtualStorage: string): boolean {
    return this.byVirtualStorage.has(virtualStorage);
  }

  /** The virtual storage's nodes in configuration order; empty for an unknown one. */
  nodes(virtualStorage: string): readonly StorageNode[] {
    return this.byVirtualStorage.get(virtualStorage) ?? [];
  }

  storageOrder(virtualStorage: string): string[] {
    return this.nodes(virtualStorage).map((n) => n.storage);
  }

  node(virtualStorage: string, storage: string): StorageNode | undefined {
    return this.nodes(virtualStorage).find((n) => n.storage === storage);
  }

  /** 0 means every node holds a replica. */
  defaultReplicationFactor(virtualStorage: string): number {
    return this.defaultFactors.get(virtualStorage) ?? 0;
  }

  all(): StorageNode[] {
    return [...this.byVirtualStorage.values()].flat();
  }
}

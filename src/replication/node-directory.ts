import type { VirtualStorageConfig } from '../config/index.js';
import { UnknownNodeError } from './errors.js';

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

/** (virtual storage, storage) → node, from the configuration's virtual storages. */
export class NodeDirectory {
  private readonly nodes = new Map<string, Map<string, NodeAddress>>();

  constructor(virtualStorages: readonly VirtualStorageConfig[]) {
    for (const vs of virtualStorages) {
      const byStorage = new Map<string, NodeAddress>();
      for (const node of vs.nodes) {
        byStorage.set(node.storage, { virtualStorage: vs.name, storage: node.storage, address: node.address, token: node.token });
      }
      this.nodes.set(vs.name, byStorage);
    }
  }

  virtualStorages(): string[] {
    return [...this.nodes.keys()];
  }

  /** The virtual storage's storages in configuration order. */
  storages(virtualStorage: string): string[] {
    return [...(this.nodes.get(virtualStorage)?.keys() ?? [])];
  }

  find(virtualStorage: string, storage: string): NodeAddress | undefined {
    return this.nodes.get(virtualStorage)?.get(storage);
  }

  require(virtualStorage: string, storage: string): NodeAddress {
    const node = this.find(virtualStorage, storage);
    if (node === undefined) throw new UnknownNodeError(virtualStorage, storage);
    return node;
  }
}

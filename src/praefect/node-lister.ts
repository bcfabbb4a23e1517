import type { NodeDirectory } from '../config/index.js';
import type { NodeTarget } from '../proxy/index.js';

/** Server-scoped calls fan out to every configured node, each storage reported under its virtual storage. */
export function nodeTargets(nodes: NodeDirectory): NodeTarget[] {
  const byAddress = new Map<string, NodeTarget & { storages: Array<{ storage: string; virtualStorage: string }> }>();
  for (const node of nodes.all()) {
    const target = byAddress.get(node.address) ?? { address: node.address, ...(node.token === '' ? {} : { token: node.token }), storages: [] };
    target.storages.push({ storage: node.storage, virtualStorage: node.virtualStorage });
    byAddress.set(node.address, target);
  }
  return [...byAddress.values()];
}

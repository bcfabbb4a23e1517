// [[virtual_storage]] and its [[virtual_storage.node]] entries, as upstream.
import { z } from 'zod';
import { BOUNDS } from './defaults.js';
import { name, nodeAddress, secret } from './fields.js';

export const nodeSchema = z.strictObject({
  storage: name,
  address: nodeAddress,
  // The token this router sends to the node; empty sends none (upstream's behaviour).
  token: secret.default(''),
});

export const virtualStorageSchema = z.strictObject({
  name,
  // 0 records no assignments, so every node holds a replica (upstream's meaning).
  default_replication_factor: z.number().int().min(0).max(BOUNDS.nodesPerVirtualStorage.max).default(0),
  node: z
    .array(nodeSchema)
    .min(1, 'at least one [[virtual_storage.node]] is required')
    .max(BOUNDS.nodesPerVirtualStorage.max),
});

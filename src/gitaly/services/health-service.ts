// grpc.health.v1.Health: SERVING only while every storage can be written.
// A full or read-only disk turns the node NOT_SERVING, and the routers fail
// over away from it.
import type * as grpc from '@grpc/grpc-js';
import type { NodeContext } from '../node-context.js';
import { unary } from '../rpc-adapters.js';
import { probeStorage } from '../storage-probe.js';

export function healthService(node: NodeContext): grpc.UntypedServiceImplementation {
  return {
    Check: unary(async () => {
      const statuses = await Promise.all(
        node.locator.storageNames().map((name) => probeStorage(node.locator.storagePath(name), node.config.health.min_free_bytes)),
      );
      const failing = statuses.filter((s) => !s.writeable);
      if (failing.length > 0) node.log.warn({ errors: failing.map((s) => s.error) }, 'health check: storage not writeable');
      return { status: failing.length === 0 ? 'SERVING' : 'NOT_SERVING' };
    }),
  };
}

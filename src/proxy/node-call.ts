// A unary call to one storage node with bytes in and bytes out, for the
// calls the router makes itself (fan-out of server-scoped RPCs).
import * as grpc from '@grpc/grpc-js';
import type { ChannelPool } from './channel-pool.js';
import type { NodeTarget } from './route.js';
import { upstreamMetadata, type InternalTokens } from './upstream-metadata.js';

const identity = (bytes: Buffer): Buffer => bytes;

export interface NodeCallContext {
  pool: ChannelPool;
  tokens: InternalTokens;
}

export function callNode(ctx: NodeCallContext, node: NodeTarget, path: string, request: Uint8Array, deadline: grpc.Deadline): Promise<Buffer> {
  const metadata = upstreamMetadata(new grpc.Metadata(), { target: node }, ctx.tokens);
  const client = ctx.pool.client(node.address);
  const bytes = Buffer.from(request.buffer, request.byteOffset, request.byteLength);
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(path, identity, identity, bytes, metadata, { deadline }, (error, response) => {
      if (error !== null || response === undefined) reject(error ?? new Error(`${path}: no response`));
      else resolve(response);
    });
  });
}

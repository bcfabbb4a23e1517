// BlobService: blob contents, streamed.
import type * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError } from '../errors.js';
import { objectInfo } from '../git/cat-file.js';
import { validateRevision } from '../git/revision.js';
import type { NodeContext } from '../node-context.js';
import { serverStream } from '../rpc-adapters.js';
import type { RepoRequest } from '../wire-types.js';

export function blobService(node: NodeContext): grpc.UntypedServiceImplementation {
  return {
    GetBlob: serverStream(async (request: RepoRequest & { oid: string; limit: number }, sink, ctx) => {
      const location = await node.locator.locateExisting(request.repository);
      if (request.oid.length === 0) throw new InvalidArgumentError('empty Oid');
      const oid = validateRevision(request.oid, 'oid');
      const info = await objectInfo(node.git, location.path, oid, { env: location.env, signal: ctx.signal });
      // Upstream answers an unknown or non-blob object with one empty message.
      if (info === undefined || info.type !== 'blob') {
        await sink.write({ size: 0, data: Buffer.alloc(0), oid: '' });
        return;
      }
      const wanted = request.limit < 0 ? info.size : Math.min(request.limit, info.size);
      if (wanted === 0) {
        await sink.write({ size: info.size, data: Buffer.alloc(0), oid: info.id });
        return;
      }
      await streamBlob(node, location.path, location.env, info, wanted, ctx.signal, (message) => sink.write(message));
    }),
  };
}

async function streamBlob(
  node: NodeContext,
  gitDir: string,
  env: Record<string, string>,
  info: { id: string; size: number },
  wanted: number,
  signal: AbortSignal,
  send: (message: { size: number; data: Buffer; oid: string }) => Promise<void>,
): Promise<void> {
  const proc = await node.git.spawn({ gitDir, args: ['cat-file', 'blob', info.id], env, signal });
  proc.stdin.end();
  let sent = 0;
  try {
    for await (const piece of proc.stdout) {
      const buffer = (piece as Buffer).subarray(0, wanted - sent);
      for (let offset = 0; offset < buffer.length; offset += node.chunkBytes) {
        const first = sent === 0;
        const chunk = buffer.subarray(offset, offset + node.chunkBytes);
        await send({ size: first ? info.size : 0, data: chunk, oid: first ? info.id : '' });
        sent += chunk.length;
      }
      if (sent >= wanted) break;
    }
  } finally {
    // Stopping early (limit reached) must not leave git running.
    proc.kill();
    await proc.wait().catch(() => undefined);
  }
}

// A real grpc-js server implementing SmartHTTPService with scripted answers,
// so the gateway's HTTP side can be tested without git or a storage node.
//   relative path "missing.git"      -> NOT_FOUND
//   relative path "code-<N>.git"     -> status N
//   relative path "mid-error.git"    -> some bytes, then INTERNAL
//   otherwise InfoRefs answers "advert:<service>:<path>:<git_protocol>" and
//   Post*Pack answers "got <n> bytes" after reading the whole request.
import * as grpc from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { guardService } from '../../src/auth/index.js';
import { requireService } from '../../src/protocol/index.js';

interface Repo {
  storage_name: string;
  relative_path: string;
}
interface PostRequest {
  repository?: Repo | null;
  data: Buffer;
  git_protocol: string;
  gl_id?: string;
}

export interface FakeUpstream {
  address: string;
  /** First messages of every Post*Pack call, and the bytes each received. */
  posts: Array<{ first: PostRequest; bytes: number; sha256: string }>;
  /** Post*Pack calls the client cancelled; emits 'cancelled' for each. */
  cancellations: EventEmitter & { count: number };
  stop(): Promise<void>;
}

function scriptedError(relativePath: string): grpc.ServiceError | undefined {
  const make = (code: grpc.status, details: string) =>
    Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
  if (relativePath === 'missing.git') return make(grpc.status.NOT_FOUND, `repository not found: ${relativePath}`);
  const match = /^code-(\d+)\.git$/.exec(relativePath);
  if (match !== null) return make(Number(match[1]) as grpc.status, `scripted status ${match[1]}`);
  return undefined;
}

/** With a token, every call must carry a valid v2 token for it. */
export async function startFakeUpstream(token?: string): Promise<FakeUpstream> {
  const posts: FakeUpstream['posts'] = [];
  const cancellations = Object.assign(new EventEmitter(), { count: 0 });
  const infoRefs = (service: string) => (call: grpc.ServerWritableStream<{ repository: Repo; git_protocol: string }, unknown>) => {
    const path = call.request.repository.relative_path;
    const error = scriptedError(path);
    if (error !== undefined) return void call.emit('error', error);
    if (path === 'mid-error.git') {
      call.write({ data: Buffer.from('partial') });
      setImmediate(() => call.emit('error', Object.assign(new Error('boom'), { code: grpc.status.INTERNAL, details: 'boom' })));
      return;
    }
    call.write({ data: Buffer.from(`advert:${service}:${call.request.repository.storage_name}/${path}:${call.request.git_protocol}`) });
    call.end();
  };
  const post = (call: grpc.ServerDuplexStream<PostRequest, unknown>) => {
    let first: PostRequest | undefined;
    let bytes = 0;
    const hash = createHash('sha256');
    call.on('data', (message: PostRequest) => {
      if (first === undefined) {
        first = message;
        const error = scriptedError(message.repository?.relative_path ?? '');
        if (error !== undefined) call.emit('error', error);
      }
      bytes += message.data.length;
      hash.update(message.data);
    });
    // grpc-js reports a client's cancellation as end-of-input first and as
    // 'cancelled' just after, so a cancelled call may still be answered here;
    // tests look at `cancellations` to see what the gateway did.
    call.on('cancelled', () => {
      cancellations.count++;
      cancellations.emit('cancelled');
    });
    call.on('end', () => {
      if (first === undefined) return void call.end();
      if (scriptedError(first.repository?.relative_path ?? '') !== undefined) return;
      const sha256 = hash.digest('hex');
      posts.push({ first, bytes, sha256 });
      call.write({ data: Buffer.from(`got ${bytes} bytes ${sha256}`) });
      call.end();
    });
  };
  const server = new grpc.Server();
  const definition = requireService('gitaly.SmartHTTPService');
  const implementation: grpc.UntypedServiceImplementation = {
    InfoRefsUploadPack: infoRefs('upload-pack'),
    InfoRefsReceivePack: infoRefs('receive-pack'),
    PostUploadPack: post,
    PostReceivePack: post,
  };
  server.addService(definition, guardService(definition, implementation, { token }));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    address: `127.0.0.1:${port}`,
    posts,
    cancellations,
    stop: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}

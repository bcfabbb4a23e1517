// A real grpc-js server implementing SmartHTTPService with scripted answers,
// so the gateway's HTTP side can be tested without git or a storage node.
//   relative path "missing.git"      -> NOT_FOUND
//   relative path "code-<N>.git"     -> status N
//   relative path "mid-error.git"    -> some bytes, then INTERNAL
//   relative path "big-<N>.git"      -> InfoRefs streams N MiB through a PacedWriter
//   relative path "paced.git"        -> Post*Pack reads through a PacedReader
//   otherwise InfoRefs answers "advert:<service>:<path>:<git_protocol>" and
//   Post*Pack answers "got <n> bytes" after reading the whole request.
import * as grpc from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { guardService } from '../../src/auth/index.js';
import { requireService } from '../../src/protocol/index.js';
import { PacedReader, PacedWriter } from './paced-stream.js';

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
  /** Emits 'writer' (InfoRefs of big-<MiB>.git) and 'reader' (Post*Pack of paced.git). */
  paced: EventEmitter;
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
  const paced = new EventEmitter();
  const infoRefs = (service: string) => (call: grpc.ServerWritableStream<{ repository: Repo; git_protocol: string }, unknown>) => {
    const path = call.request.repository.relative_path;
    const error = scriptedError(path);
    if (error !== undefined) return void call.emit('error', error);
    const big = /^big-(\d+)\.git$/.exec(path);
    if (big !== null) {
      const writer = new PacedWriter();
      paced.emit('writer', writer);
      void writer.run(call, Number(big[1]) * 1024 * 1024, 64 * 1024, (chunk) => ({ data: chunk }), () => call.end());
      return;
    }
    if (path === 'mid-error.git') {
      call.write({ data: Buffer.from('partial') });
      setImmediate(() => call.emit('error', Object.assign(new Error('boom'), { code: grpc.status.INTERNAL, details: 'boom' })));
      return;
    }
    call.write({ data: Buffer.from(`advert:${service}:${call.request.repository.storage_name}/${path}:${call.request.git_protocol}`) });
    call.end();
  };
  const post = (call: grpc.ServerDuplexStream<PostRequest, unknown>) => {
    // grpc-js reports a client's cancellation as end-of-input first and as
    // 'cancelled' just after, so a cancelled call may still be answered here;
    // tests look at `cancellations` to see what the gateway did.
    call.on('cancelled', () => {
      cancellations.count++;
      cancellations.emit('cancelled');
    });
    call.once('data', (first: PostRequest) => {
      const relativePath = first.repository?.relative_path ?? '';
      const error = scriptedError(relativePath);
      if (error !== undefined) return void call.emit('error', error);
      if (relativePath === 'paced.git') return pacedPost(call, first);
      plainPost(call, first);
    });
  };

  const plainPost = (call: grpc.ServerDuplexStream<PostRequest, unknown>, first: PostRequest): void => {
    let bytes = first.data.length;
    const hash = createHash('sha256').update(first.data);
    call.on('data', (message: PostRequest) => {
      bytes += message.data.length;
      hash.update(message.data);
    });
    call.on('end', () => {
      const sha256 = hash.digest('hex');
      posts.push({ first, bytes, sha256 });
      call.write({ data: Buffer.from(`got ${bytes} bytes ${sha256}`) });
      call.end();
    });
  };

  // Reads only when the test says so, through the PacedReader it is handed.
  const pacedPost = (call: grpc.ServerDuplexStream<PostRequest, unknown>, first: PostRequest): void => {
    const reader = new PacedReader(call, (message) => (message as PostRequest).data.length);
    reader.received = first.data.length;
    call.on('end', () => {
      call.write({ data: Buffer.from(`read ${reader.received} bytes`) });
      call.end();
    });
    paced.emit('reader', reader);
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
    paced,
    stop: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}

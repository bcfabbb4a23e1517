// A stand-in storage node for gateway tests: SmartHTTPService on a real
// grpc-js server, answering with real `git upload-pack`/`receive-pack
// --stateless-rpc` over bare repositories under one folder. It lets the git
// CLI tests run without bin/gitaly; the same tests run against bin/gitaly
// when it is built.
import * as grpc from '@grpc/grpc-js';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { requireService } from '../../src/protocol/index.js';

interface Repo {
  storage_name: string;
  relative_path: string;
}

interface PostMessage {
  repository?: Repo;
  data: Buffer;
  git_protocol: string;
}

const PKT_FLUSH = Buffer.from('0000');

function pktLine(text: string): Buffer {
  const length = (Buffer.byteLength(text) + 4).toString(16).padStart(4, '0');
  return Buffer.from(`${length}${text}`);
}

function grpcError(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

export async function startGitBackedUpstream(storageName: string, storageDir: string): Promise<{ address: string; stop: () => Promise<void> }> {
  const repoDir = (repository: Repo | null | undefined): string => {
    if (repository?.storage_name !== storageName) throw grpcError(grpc.status.INVALID_ARGUMENT, 'unknown storage');
    const dir = path.join(storageDir, repository.relative_path);
    if (!existsSync(dir)) throw grpcError(grpc.status.NOT_FOUND, `repository not found: ${repository.relative_path}`);
    return dir;
  };
  const spawnGit = (service: string, args: string[], gitProtocol: string): ChildProcessWithoutNullStreams =>
    spawn('git', [service, '--stateless-rpc', ...args], { env: { ...process.env, GIT_PROTOCOL: gitProtocol } });

  const infoRefs = (service: string) => (call: grpc.ServerWritableStream<{ repository: Repo; git_protocol: string }, unknown>) => {
    void (async () => {
      const dir = repoDir(call.request.repository);
      // Gitaly writes the smart-HTTP preamble itself, for every protocol version.
      call.write({ data: Buffer.concat([pktLine(`# service=git-${service}\n`), PKT_FLUSH]) });
      const git = spawnGit(service, ['--advertise-refs', dir], call.request.git_protocol);
      const exited = once(git, 'close') as Promise<[number]>;
      for await (const chunk of git.stdout) if (!call.write({ data: chunk })) await once(call, 'drain');
      const [code] = await exited;
      if (code !== 0) throw grpcError(grpc.status.INTERNAL, `git ${service} exited with ${code}`);
      call.end();
    })().catch((error: unknown) => call.emit('error', error));
  };

  const post = (service: string) => (call: grpc.ServerDuplexStream<PostMessage, unknown>) => {
    let git: ChildProcessWithoutNullStreams | undefined;
    let output: Promise<void> | undefined;
    let exited: Promise<[number]> | undefined;
    void (async () => {
      // A plain for-await would destroy the call (both sides) when the request
      // side ends, cutting off the response still to be written.
      for await (const message of call.iterator({ destroyOnReturn: false }) as AsyncIterable<PostMessage>) {
        if (git === undefined) {
          git = spawnGit(service, [repoDir(message.repository)], message.git_protocol);
          // Listen at once: git may exit before the request stream ends.
          exited = once(git, 'close') as Promise<[number]>;
          git.stdin.on('error', () => undefined);
          output = pumpOut(git, call);
        }
        if (!git.stdin.write(message.data)) await Promise.race([once(git.stdin, 'drain'), exited]);
      }
      if (git === undefined) return void call.end();
      git.stdin.end();
      await output;
      const [code] = (await exited) ?? [1];
      if (code !== 0) throw grpcError(grpc.status.INTERNAL, `git ${service} exited with ${code}`);
      call.end();
    })().catch((error: unknown) => {
      git?.kill();
      call.emit('error', error);
    });
  };

  const server = new grpc.Server();
  server.addService(requireService('gitaly.SmartHTTPService'), {
    InfoRefsUploadPack: infoRefs('upload-pack'),
    InfoRefsReceivePack: infoRefs('receive-pack'),
    PostUploadPack: post('upload-pack'),
    PostReceivePack: post('receive-pack'),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { address: `127.0.0.1:${port}`, stop: () => new Promise((resolve) => server.tryShutdown(() => resolve())) };
}

async function pumpOut(git: ChildProcessWithoutNullStreams, call: grpc.ServerDuplexStream<unknown, unknown>): Promise<void> {
  for await (const chunk of git.stdout) if (!call.write({ data: chunk })) await once(call, 'drain');
}

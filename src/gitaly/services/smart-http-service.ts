// SmartHTTPService: git's smart HTTP protocol. The bodies travel through
// unchanged; git upload-pack / receive-pack run in stateless-rpc mode, as
// git http-backend runs them.
import type * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError } from '../errors.js';
import { FLUSH_PKT, pktLine } from '../git/pkt-line.js';
import { GitCommandError } from '../git-runner.js';
import type { RepoLocation } from '../locator.js';
import type { NodeContext } from '../node-context.js';
import { bidi, serverStream, type CallContext, type Sink } from '../rpc-adapters.js';
import { dataOf, firstMessage, pumpToSink, pumpToWritable } from '../streaming.js';
import type { RepoRequest } from '../wire-types.js';
import { glEnv, protocolEnv, validateConfigOptions } from './pack-options.js';

interface InfoRefsRequest extends RepoRequest {
  git_config_options: string[];
  git_protocol: string;
}

interface PostRequest extends RepoRequest {
  data: Buffer;
  git_config_options: string[];
  git_protocol: string;
  gl_id?: string;
  gl_repository?: string;
  gl_username?: string;
}

type PackService = 'upload-pack' | 'receive-pack';

export function smartHttpService(node: NodeContext): grpc.UntypedServiceImplementation {
  return {
    InfoRefsUploadPack: serverStream((request: InfoRefsRequest, sink: Sink<{ data: Buffer }>, ctx) => infoRefs(node, 'upload-pack', request, sink, ctx)),
    InfoRefsReceivePack: serverStream((request: InfoRefsRequest, sink: Sink<{ data: Buffer }>, ctx) => infoRefs(node, 'receive-pack', request, sink, ctx)),
    PostUploadPack: bidi((requests: AsyncIterable<PostRequest>, sink: Sink<{ data: Buffer }>, ctx) => post(node, 'upload-pack', requests, sink, ctx)),
    PostReceivePack: bidi((requests: AsyncIterable<PostRequest>, sink: Sink<{ data: Buffer }>, ctx) => post(node, 'receive-pack', requests, sink, ctx)),
  };
}

async function infoRefs(node: NodeContext, service: PackService, request: InfoRefsRequest, sink: Sink<{ data: Buffer }>, ctx: CallContext): Promise<void> {
  const location = await node.locator.locateExisting(request.repository);
  const config = validateConfigOptions(request.git_config_options);
  const env = { ...location.env, ...protocolEnv(request.git_protocol) };
  // Like git http-backend: protocol v2 starts with its capability
  // advertisement, older versions with a service announcement.
  if (!request.git_protocol.includes('version=2')) {
    await sink.write({ data: Buffer.concat([pktLine(`# service=git-${service}\n`), FLUSH_PKT]) });
  }
  const args = [service, '--stateless-rpc', '--advertise-refs', location.path];
  const proc = await node.git.spawn({ args, config, env, cwd: location.path, signal: ctx.signal });
  proc.stdin.end();
  await pumpToSink(proc.stdout, node.chunkBytes, (data) => sink.write({ data }));
  await proc.waitSuccess(args);
}

async function post(node: NodeContext, service: PackService, requests: AsyncIterable<PostRequest>, sink: Sink<{ data: Buffer }>, ctx: CallContext): Promise<void> {
  const { first, rest } = await firstMessage(requests);
  if (first === undefined) throw new InvalidArgumentError('empty request stream');
  const location: RepoLocation = await node.locator.locateExisting(first.repository);
  const config = validateConfigOptions(first.git_config_options);
  const env = { ...location.env, ...protocolEnv(first.git_protocol), ...glEnv(first) };
  const args = [service, '--stateless-rpc', location.path];
  const proc = await node.git.spawn({ args, config, env, cwd: location.path, signal: ctx.signal });
  await Promise.all([
    pumpToWritable(dataOf(first, rest, (m) => m.data), proc.stdin, ctx.signal),
    pumpToSink(proc.stdout, node.chunkBytes, (data) => sink.write({ data })),
  ]);
  const status = await proc.wait();
  if (status.exitCode !== 0) throw new GitCommandError(args, status.exitCode, status.stderr);
}

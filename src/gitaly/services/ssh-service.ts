// SSHService: git over SSH. stdin, stdout and stderr of git upload-pack /
// receive-pack travel as stream messages; the exit status comes last, in a
// message, as in Gitaly (a failing git is not a failed call).
import type * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError } from '../errors.js';
import type { NodeContext } from '../node-context.js';
import { bidi, type CallContext, type Sink } from '../rpc-adapters.js';
import { dataOf, firstMessage, pumpToSink, pumpToWritable } from '../streaming.js';
import type { RepoRequest } from '../wire-types.js';
import { glEnv, protocolEnv, validateConfigOptions } from './pack-options.js';

interface SshRequest extends RepoRequest {
  stdin: Buffer;
  git_config_options: string[];
  git_protocol: string;
  gl_id?: string;
  gl_repository?: string;
  gl_username?: string;
}

interface SshResponse {
  stdout?: Buffer;
  stderr?: Buffer;
  exit_status?: { value: number };
}

export function sshService(node: NodeContext): grpc.UntypedServiceImplementation {
  return {
    SSHUploadPack: bidi((requests: AsyncIterable<SshRequest>, sink: Sink<SshResponse>, ctx) => runSsh(node, 'upload-pack', requests, sink, ctx)),
    SSHReceivePack: bidi((requests: AsyncIterable<SshRequest>, sink: Sink<SshResponse>, ctx) => runSsh(node, 'receive-pack', requests, sink, ctx)),
  };
}

async function runSsh(node: NodeContext, service: 'upload-pack' | 'receive-pack', requests: AsyncIterable<SshRequest>, sink: Sink<SshResponse>, ctx: CallContext): Promise<void> {
  const { first, rest } = await firstMessage(requests);
  if (first === undefined) throw new InvalidArgumentError('empty request stream');
  const location = await node.locator.locateExisting(first.repository);
  const config = validateConfigOptions(first.git_config_options);
  const env = { ...location.env, ...protocolEnv(first.git_protocol), ...glEnv(first) };
  const proc = await node.git.spawn({ args: [service, location.path], config, env, cwd: location.path, signal: ctx.signal, consumeStderr: true });
  // stdout and stderr share one stream: one write at a time, in order.
  let queue = Promise.resolve();
  const send = (message: SshResponse): Promise<void> => (queue = queue.then(() => sink.write(message)));
  // Handled at once: the client may hang up while git's output is still being sent, and a
  // rejection nobody handles yet ends the whole process (a replicating peer that died took
  // the source node down with it). A failed input stops git; its output then ends.
  void pumpToWritable(dataOf(first, rest, (m) => m.stdin), proc.stdin, ctx.signal).catch(() => proc.kill());
  await Promise.all([
    pumpToSink(proc.stdout, node.chunkBytes, (stdout) => send({ stdout })),
    pumpToSink(proc.stderr, node.chunkBytes, (stderr) => send({ stderr })),
  ]);
  const status = await proc.wait();
  await queue;
  await sink.write({ exit_status: { value: status.exitCode } });
}

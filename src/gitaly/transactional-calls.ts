// Which calls vote, and how their git commands learn it. A mutator whose
// metadata names a transaction runs inside an async scope holding the
// call's hook settings; TransactionalGitRunner adds them to every git
// command started in that scope, so every reference update the call makes
// (update-ref, receive-pack, ...) runs git's reference-transaction hook and
// is voted before it is committed. Calls without the metadata are untouched.
import { AsyncLocalStorage } from 'node:async_hooks';
import * as grpc from '@grpc/grpc-js';
import type { MethodRegistry } from '../protocol/index.js';
import { AbortedError, toServiceError } from './errors.js';
import { GitRunner, type GitCommand, type GitProcess } from './git-runner.js';
import type { GitHookSettings, ReferenceTransactionVoting, TransactionalCall } from './reference-transaction-voting.js';
import { parseTransactionContext } from './transaction-metadata.js';

const scope = new AsyncLocalStorage<GitHookSettings>();

/** The hook settings of the transactional call running now, if any. */
export function currentGitHookSettings(): GitHookSettings | undefined {
  return scope.getStore();
}

/** A GitRunner whose commands vote their reference updates when run for a transactional call. */
export class TransactionalGitRunner extends GitRunner {
  override spawn(command: GitCommand): Promise<GitProcess> {
    const settings = currentGitHookSettings();
    if (settings === undefined) return super.spawn(command);
    // Ours come last: a later -c wins, so a client's config options cannot unhook the vote.
    return super.spawn({ ...command, config: [...(command.config ?? []), ...settings.config], env: { ...command.env, ...settings.env } });
  }
}

type Callback = (error: grpc.ServerErrorResponse | null, value?: unknown) => void;
type AnyCall = grpc.ServerWritableStream<unknown, unknown> & { metadata: grpc.Metadata };
type AnyHandler = (call: AnyCall, callback?: Callback) => void;

/**
 * Wraps the mutators of a service so that calls carrying transaction
 * metadata run in a transactional scope. Malformed metadata fails the call
 * with INVALID_ARGUMENT; a call whose update was refused by the vote fails
 * with ABORTED (retryable), whatever error git's refusal caused.
 */
export function transactionalService<I extends grpc.UntypedServiceImplementation>(
  definition: grpc.ServiceDefinition,
  implementation: I,
  voting: ReferenceTransactionVoting,
  registry: MethodRegistry,
): I {
  const wrapped: grpc.UntypedServiceImplementation = { ...implementation };
  for (const [name, method] of Object.entries(definition)) {
    const handler = implementation[name];
    if (handler === undefined || registry.get(method.path)?.operation !== 'mutator') continue;
    wrapped[name] = transactionalHandler(method, handler, voting);
  }
  return wrapped as I;
}

function transactionalHandler(method: grpc.MethodDefinition<unknown, unknown>, handler: grpc.UntypedHandleCall, voting: ReferenceTransactionVoting): grpc.UntypedHandleCall {
  const inner = handler as unknown as AnyHandler;
  const usesCallback = !method.responseStream;
  const handle: AnyHandler = (call, callback) => {
    let tx: TransactionalCall | undefined;
    try {
      const context = parseTransactionContext(call.metadata);
      if (context === undefined) return inner(call, callback);
      tx = voting.enter(context);
    } catch (error) {
      const status = toServiceError(error);
      if (usesCallback && callback !== undefined) return callback(status);
      return void call.emit('error', status);
    }
    const entered = tx;
    if (usesCallback && callback !== undefined) {
      return scope.run(entered.settings, () =>
        inner(call, (error, value) => {
          entered.release();
          const refusal = entered.refusal;
          if (error !== null && refusal !== undefined) return callback(toServiceError(new AbortedError(`reference update refused: ${refusal.message}`)));
          callback(error, value);
        }),
      );
    }
    // Streaming calls fail through an 'error' event: a refused vote turns it into ABORTED.
    const emit = call.emit.bind(call);
    call.emit = (event: string | symbol, ...args: unknown[]): boolean => {
      const refusal = entered.refusal;
      if (event === 'error' && refusal !== undefined) return emit(event, toServiceError(new AbortedError(`reference update refused: ${refusal.message}`)));
      return emit(event, ...args);
    };
    const release = (): void => entered.release();
    call.once('finish', release);
    call.once('error', release);
    call.once('cancelled', release);
    call.once('close', release);
    return scope.run(entered.settings, () => inner(call, callback));
  };
  return handle as unknown as grpc.UntypedHandleCall;
}

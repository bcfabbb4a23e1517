// Which calls go to the write log: mutators that carry the router's
// `praefect-write` marker and end OK. The line is written just before the OK
// leaves (the unary callback, or the end of a response stream), so an OK the
// router saw always has its line. A malformed marker fails the call with
// INVALID_ARGUMENT before it runs: the router is ours, and a silently
// unlogged write would blind the checker.
import type * as grpc from '@grpc/grpc-js';
import { getAtPath, type MethodRegistry } from '../protocol/index.js';
import { toServiceError } from './errors.js';
import type { WriteLog } from './write-log.js';
import { parseWriteMarker, type WriteMarker } from './write-marker.js';

type Callback = (error: grpc.ServerErrorResponse | null, value?: unknown) => void;
type AnyCall = grpc.ServerDuplexStream<unknown, unknown> & { request?: unknown };
type AnyHandler = (call: AnyCall, callback?: Callback) => void;

export function writeLoggedService<I extends grpc.UntypedServiceImplementation>(
  definition: grpc.ServiceDefinition,
  implementation: I,
  registry: MethodRegistry,
  log: WriteLog,
): I {
  const wrapped: grpc.UntypedServiceImplementation = { ...implementation };
  for (const [name, method] of Object.entries(definition)) {
    const handler = implementation[name];
    const info = registry.get(method.path);
    if (handler === undefined || info?.operation !== 'mutator' || info.targetRepository === undefined) continue;
    wrapped[name] = writeLoggedHandler(method, info.targetRepository.names, handler, log);
  }
  return wrapped as I;
}

function writeLoggedHandler(method: grpc.MethodDefinition<unknown, unknown>, repositoryField: readonly string[], handler: grpc.UntypedHandleCall, log: WriteLog): grpc.UntypedHandleCall {
  const inner = handler as unknown as AnyHandler;
  const handle: AnyHandler = (call, callback) => {
    let marker: WriteMarker | undefined;
    try {
      marker = parseWriteMarker(call.metadata);
    } catch (error) {
      if (!method.responseStream && callback !== undefined) return callback(toServiceError(error));
      return void call.emit('error', toServiceError(error));
    }
    if (marker === undefined) return inner(call, callback);
    const firstRequest = method.requestStream ? captureFirstRequest(call) : () => call.request;
    const record = (): void => log.append(entryOf(method.path, marker, getAtPath(firstRequest(), repositoryField)));
    if (!method.responseStream && callback !== undefined) {
      return inner(call, (error, value) => {
        if (error === null) record();
        callback(error, value);
      });
    }
    let failed = false;
    call.once('error', () => (failed = true));
    const end = call.end.bind(call) as (...args: unknown[]) => AnyCall;
    call.end = ((...args: unknown[]) => {
      if (!failed && !call.cancelled) record();
      return end(...args);
    }) as AnyCall['end'];
    return inner(call, callback);
  };
  return handle as unknown as grpc.UntypedHandleCall;
}

/** Sees the first message of a request stream as grpc-js pushes it, whatever way the handler reads. */
function captureFirstRequest(call: AnyCall): () => unknown {
  let first: unknown;
  let seen = false;
  const push = call.push.bind(call);
  call.push = (chunk: unknown, encoding?: BufferEncoding): boolean => {
    if (!seen && chunk !== null) {
      seen = true;
      first = chunk;
      call.push = push;
    }
    return push(chunk, encoding);
  };
  return () => first;
}

function entryOf(methodPath: string, marker: WriteMarker, repository: unknown) {
  const { storage_name: storage, relative_path: relativePath } = (repository ?? {}) as { storage_name?: unknown; relative_path?: unknown };
  return {
    time: new Date().toISOString(),
    storage: typeof storage === 'string' ? storage : '',
    relative_path: typeof relativePath === 'string' ? relativePath : '',
    method: methodPath,
    repository_id: marker.repositoryId,
    generation: marker.generation,
    primary: marker.primary,
    router: marker.router,
    ...(marker.write === undefined ? {} : { write: marker.write }),
  };
}

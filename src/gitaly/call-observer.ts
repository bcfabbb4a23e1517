// Watches every call of a service implementation finish, for metrics and
// logs, without the handlers knowing: the wrapper sees the status a unary
// callback or a stream's end carries.
import * as grpc from '@grpc/grpc-js';

export interface FinishedCall {
  path: string;
  code: grpc.status;
  durationSec: number;
  details?: string;
}

export type CallObserver = (call: FinishedCall) => void;

type Callback = (error: grpc.ServiceError | null, value?: unknown) => void;
type AnyHandler = (call: grpc.ServerWritableStream<unknown, unknown>, callback?: Callback) => void;

export function observeService<I extends grpc.UntypedServiceImplementation>(definition: grpc.ServiceDefinition, implementation: I, observe: CallObserver): I {
  const observed: grpc.UntypedServiceImplementation = { ...implementation };
  for (const [name, method] of Object.entries(definition)) {
    const handler = implementation[name];
    if (handler !== undefined) observed[name] = observeHandler(method, handler, observe);
  }
  return observed as I;
}

function observeHandler(method: grpc.MethodDefinition<unknown, unknown>, handler: grpc.UntypedHandleCall, observe: CallObserver): grpc.UntypedHandleCall {
  const inner = handler as unknown as AnyHandler;
  const wrapped: AnyHandler = (call, callback) => {
    const startedNs = process.hrtime.bigint();
    let reported = false;
    const report = (code: grpc.status, details?: string): void => {
      if (reported) return;
      reported = true;
      observe({ path: method.path, code, durationSec: Number(process.hrtime.bigint() - startedNs) / 1e9, details });
    };
    if (!method.responseStream && callback !== undefined) {
      return inner(call, (error, value) => {
        report(error?.code ?? grpc.status.OK, error?.details);
        callback(error, value);
      });
    }
    let failure: grpc.ServiceError | undefined;
    call.once('error', (error: grpc.ServiceError) => (failure = error));
    call.once('finish', () => report(failure?.code ?? grpc.status.OK, failure?.details));
    call.once('cancelled', () => report(grpc.status.CANCELLED, 'cancelled by the client'));
    return inner(call, callback);
  };
  return wrapped as unknown as grpc.UntypedHandleCall;
}

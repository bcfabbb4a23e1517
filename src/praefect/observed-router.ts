// One observation per routed call, whatever ends it: a refusal by the router,
// or the status the client gets after the route's onFinish (for writes, that
// includes the generation bump). Feeds the per-RPC log line and metrics.
import type * as grpc from '@grpc/grpc-js';
import type { MethodInfo } from '../protocol/index.js';
import { statusOfError, type Route, type Router } from '../proxy/index.js';

export interface CallRecord {
  readonly method: MethodInfo;
  readonly code: grpc.status;
  readonly details: string;
  readonly durationMs: number;
  /** virtual storage/relative path, when the call names a repository. */
  readonly repository?: string;
  /** The storage the call went to, when it was routed. */
  readonly storage?: string;
  /** The route's own log fields (the write's id: an OK mutator with one was acknowledged). */
  readonly fields?: Readonly<Record<string, string>>;
}

export function observedRouter(router: Router, observe: (record: CallRecord) => void, nowMs: () => number = performance.now.bind(performance)): Router {
  return async (request) => {
    const startedMs = nowMs();
    const repository = request.repository === undefined ? undefined : `${request.repository.storage_name}/${request.repository.relative_path}`;
    const record = (status: { code: grpc.status; details: string }, storage?: string, fields?: Readonly<Record<string, string>>): void =>
      observe({
        method: request.method,
        code: status.code,
        details: status.details,
        durationMs: nowMs() - startedMs,
        ...(repository === undefined ? {} : { repository }),
        ...(storage === undefined ? {} : { storage }),
        ...(fields === undefined ? {} : { fields }),
      });
    let route: Route;
    try {
      route = await router(request);
    } catch (error) {
      record(statusOfError(error));
      throw error;
    }
    const storage = route.rewrite?.storageName ?? route.storageRewrite;
    const inner = route.onFinish?.bind(route);
    return {
      ...route,
      async onFinish(status, secondaries) {
        try {
          await inner?.(status, secondaries);
          record(status, storage, route.logFields);
        } catch (error) {
          record(statusOfError(error), storage, route.logFields);
          throw error;
        }
      },
    };
  };
}

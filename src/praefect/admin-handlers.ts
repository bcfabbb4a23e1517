// How admin handlers become grpc-js handlers, and how their errors become
// statuses that name what went wrong.
import * as grpc from '@grpc/grpc-js';
import { AdminRequestError } from '../admin/index.js';
import type { ClusterAccess } from '../cluster/index.js';
import { DatabaseError } from '../db/index.js';
import { raftErrorStatus, RaftError } from '../raft/index.js';

type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => void;
export const POLL_INTERVAL_MS = 50;
export type Send<Res> = (message: Res) => Promise<void>;
/** A server-streaming handler: `send` waits while the client is slow to read; the signal aborts when the client goes away. */
export function serverStreaming<Req, Res>(handle: (request: Req, send: Send<Res>, signal: AbortSignal) => Promise<void>): grpc.handleServerStreamingCall<Req, Res> {
  return (call) => {
    const controller = new AbortController();
    call.on('cancelled', () => controller.abort(new Error('the client cancelled the call')));
    const send: Send<Res> = (message) =>
      new Promise<void>((resolve, reject) => {
        const signal = controller.signal;
        if (signal.aborted) return reject(signal.reason as Error);
        if (call.write(message)) return resolve();
        const onDrain = (): void => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = (): void => {
          call.removeListener('drain', onDrain);
          reject(signal.reason as Error);
        };
        call.once('drain', onDrain);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    handle(call.request, send, controller.signal).then(
      () => call.end(),
      (error: unknown) => {
        if (!call.cancelled) call.emit('error', statusOf(error));
      },
    );
  };
}
/** One handler: its result, or its error as a status that names what went wrong. */
export function unary<Req, Res>(handle: (request: Req) => Promise<Res>): Unary<Req, Res> {
  return (call, callback) => {
    handle(call.request).then(
      (response) => callback(null, response),
      (error: unknown) => callback(statusOf(error)),
    );
  };
}
function statusOf(error: unknown): grpc.ServiceError {
  if (error instanceof AdminRequestError) return serviceError(error.grpcCode, error.message);
  if (error instanceof RaftError) {
    const { code, details } = raftErrorStatus(error);
    return serviceError(code, details);
  }
  if (error instanceof DatabaseError) return serviceError(grpc.status.UNAVAILABLE, `the database is unavailable: ${error.message}`);
  return serviceError(grpc.status.INTERNAL, messageOf(error));
}
function serviceError(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
/** '' when fresh (or not asked to be), else why a ReadIndex failed. */
export async function freshen(access: ClusterAccess, fresh: boolean): Promise<string> {
  if (!fresh) return '';
  try {
    await access.fresh();
    return '';
  } catch (error) {
    return messageOf(error);
  }
}
/** Catches up with the Raft group or fails UNAVAILABLE: operator commands decide on fresh state only. */
export async function requireFresh(access: ClusterAccess): Promise<void> {
  const freshError = await freshen(access, true);
  if (freshError !== '') throw new AdminRequestError('UNAVAILABLE', `cannot read fresh cluster state (no Raft quorum reachable from router ${access.routerName}?): ${freshError}`);
}
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new AdminRequestError('DEADLINE_EXCEEDED', `${what} was not applied within ${timeoutMs} ms; its outcome is unknown (check \`members list\`)`)),
      timeoutMs,
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

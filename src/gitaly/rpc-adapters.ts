// Turns async functions into grpc-js handlers. Every handler gets a
// cancellation signal, backpressure-aware writes, and errors mapped to
// statuses by errors.ts; undecodable requests become INVALID_ARGUMENT.
import type { Readable } from 'node:stream';
import type * as grpc from '@grpc/grpc-js';
import { isMalformed } from '../protocol/index.js';
import { CancelledError, InvalidArgumentError, toServiceError } from './errors.js';

export interface CallContext {
  metadata: grpc.Metadata;
  /** Aborted when the client cancels, the deadline passes, or the call ends. */
  signal: AbortSignal;
}

/** Writes that wait while the client is slow to read. */
export interface Sink<T> {
  write(message: T): Promise<void>;
}

// grpc-js does not export its common call type; these are the parts used here.
interface Surface {
  metadata: grpc.Metadata;
  once(event: 'cancelled', listener: () => void): unknown;
  removeListener(event: 'cancelled', listener: () => void): unknown;
}

function contextOf(call: Surface): { ctx: CallContext; finish: (error: unknown) => grpc.ServerErrorResponse | null } {
  const controller = new AbortController();
  const abort = (): void => controller.abort(new CancelledError('call cancelled by the client'));
  call.once('cancelled', abort);
  const finish = (error: unknown): grpc.ServerErrorResponse | null => {
    call.removeListener('cancelled', abort);
    // Whatever the handler left running (a git process after an early
    // error) is tied to this signal and stops with the call.
    if (!controller.signal.aborted) controller.abort(new CancelledError('call finished'));
    return error === undefined ? null : toServiceError(error);
  };
  return { ctx: { metadata: call.metadata, signal: controller.signal }, finish };
}

function checkDecoded<T>(request: T): T {
  if (isMalformed(request)) throw new InvalidArgumentError(`malformed request: ${request.malformed}`);
  return request;
}

export function unary<Req, Res>(fn: (request: Req, ctx: CallContext) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const { ctx, finish } = contextOf(call);
    Promise.resolve()
      .then(() => fn(checkDecoded(call.request), ctx))
      .then(
        (response) => {
          finish(undefined);
          callback(null, response);
        },
        (error: unknown) => callback(finish(error ?? new Error('unknown error'))),
      );
  };
}

export function serverStream<Req, Res>(
  fn: (request: Req, sink: Sink<Res>, ctx: CallContext) => Promise<void>,
): grpc.handleServerStreamingCall<Req, Res> {
  return (call) => {
    const { ctx, finish } = contextOf(call);
    Promise.resolve()
      .then(() => fn(checkDecoded(call.request), sinkOf(call, ctx.signal), ctx))
      .then(
        () => {
          finish(undefined);
          call.end();
        },
        (error: unknown) => failStream(call, finish(error ?? new Error('unknown error'))),
      );
  };
}

export function clientStream<Req, Res>(
  fn: (requests: AsyncIterable<Req>, ctx: CallContext) => Promise<Res>,
): grpc.handleClientStreamingCall<Req, Res> {
  return (call, callback) => {
    const { ctx, finish } = contextOf(call);
    Promise.resolve()
      .then(() => fn(readRequests<Req>(call, ctx.signal), ctx))
      .then(
        (response) => {
          finish(undefined);
          callback(null, response);
        },
        (error: unknown) => callback(finish(error ?? new Error('unknown error'))),
      );
  };
}

export function bidi<Req, Res>(
  fn: (requests: AsyncIterable<Req>, sink: Sink<Res>, ctx: CallContext) => Promise<void>,
): grpc.handleBidiStreamingCall<Req, Res> {
  return (call) => {
    const { ctx, finish } = contextOf(call);
    Promise.resolve()
      .then(() => fn(readRequests<Req>(call, ctx.signal), sinkOf(call, ctx.signal), ctx))
      .then(
        () => {
          finish(undefined);
          call.end();
        },
        (error: unknown) => failStream(call, finish(error ?? new Error('unknown error'))),
      );
  };
}

function failStream(call: grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>, error: grpc.ServerErrorResponse | null): void {
  if (call.cancelled || call.destroyed) return;
  call.emit('error', error ?? toServiceError(new Error('unknown error')));
}

function sinkOf<T>(call: grpc.ServerWritableStream<unknown, T> | grpc.ServerDuplexStream<unknown, T>, signal: AbortSignal): Sink<T> {
  return {
    async write(message: T): Promise<void> {
      if (signal.aborted) throw new CancelledError('call cancelled by the client');
      if (call.write(message)) return;
      await new Promise<void>((resolve, reject) => {
        const onDrain = (): void => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = (): void => {
          call.removeListener('drain', onDrain);
          reject(new CancelledError('call cancelled by the client'));
        };
        call.once('drain', onDrain);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    },
  };
}

async function* readRequests<T>(stream: Readable, signal: AbortSignal): AsyncGenerator<T> {
  try {
    // A plain for-await would destroy the call when the requests end, and
    // with it the response side of a bidirectional call.
    for await (const message of stream.iterator({ destroyOnReturn: false })) {
      yield checkDecoded(message as T);
    }
  } catch (error) {
    if (signal.aborted) throw new CancelledError('call cancelled by the client');
    throw error;
  }
  if (signal.aborted) throw new CancelledError('call cancelled by the client');
}

// Server-scoped calls on the grpc-js transport: authenticate, read the one
// request, answer from server-scoped.ts.
import * as grpc from '@grpc/grpc-js';
import { authenticateMetadata, type ServerAuthOptions } from '../auth/index.js';
import type { MethodInfo } from '../protocol/index.js';
import { statusOfError } from './error-status.js';
import { answerServerScoped, answersServerScoped, deadlineMs, needsAuthentication, type ServerScopedContext } from './server-scoped.js';

type ServerCall = grpc.ServerDuplexStream<Buffer, Buffer>;

export function serverScopedHandler(ctx: ServerScopedContext, method: MethodInfo, auth: ServerAuthOptions | undefined): (call: ServerCall) => void {
  return (call) => {
    call.on('error', () => undefined);
    const authError = auth === undefined || !needsAuthentication(method) ? null : authenticateMetadata(call.metadata, auth);
    if (authError !== null) return fail(call, { code: authError.code ?? grpc.status.UNAUTHENTICATED, details: authError.details ?? 'unauthenticated' });
    if (!answersServerScoped(ctx, method)) return fail(call, { code: grpc.status.UNIMPLEMENTED, details: `the router does not answer ${method.path}` });
    let asked = false;
    const hungUp = new AbortController();
    call.on('cancelled', () => hungUp.abort());
    const ask = (request: Buffer): void => {
      if (asked) return;
      asked = true;
      answerServerScoped(ctx, method, request, deadlineMs(call.getDeadline()), hungUp.signal).then(
        (response) => {
          call.write(Buffer.from(response.buffer, response.byteOffset, response.byteLength));
          call.end();
        },
        (error: unknown) => fail(call, statusOfError(error)),
      );
    };
    call.on('data', ask);
    call.on('end', () => ask(Buffer.alloc(0)));
  };
}

function fail(call: ServerCall, status: { code: grpc.status; details: string }): void {
  call.emit('error', { ...status, metadata: new grpc.Metadata() });
}

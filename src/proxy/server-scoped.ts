// Server-scoped calls (services marked `intercepted`): the router answers
// them itself, asking every node where the answer is about nodes.
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { authenticateMetadata, type ServerAuthOptions } from '../auth/index.js';
import { TO_OBJECT_OPTIONS, type MethodInfo } from '../protocol/index.js';
import { statusOfError } from './error-status.js';
import { callNode, type NodeCallContext } from './node-call.js';
import type { NodeLister, NodeTarget } from './route.js';
import { mergeDiskStatistics, mergeReadiness, mergeServerInfo, type NodeAnswer } from './server-merge.js';

export interface ServerScopedContext extends NodeCallContext {
  root: protobuf.Root;
  nodes: NodeLister;
  serverVersion: string;
  /** Bound on each node call, within the client's own deadline. */
  fanOutTimeoutMs: number;
  auth?: ServerAuthOptions;
}

type ServerCall = grpc.ServerDuplexStream<Buffer, Buffer>;

interface Question {
  ctx: ServerScopedContext;
  method: MethodInfo;
  request: Buffer;
  deadline: grpc.Deadline;
}

type Answerer = (question: Question) => Promise<object>;

const SERVING = { status: 'SERVING' };

const ANSWERERS: Readonly<Record<string, Answerer>> = {
  '/gitaly.ServerService/ServerInfo': async (q) => mergeServerInfo(q.ctx.serverVersion, await askAll(q)),
  '/gitaly.ServerService/DiskStatistics': async (q) => mergeDiskStatistics(await askAll(q)),
  '/gitaly.ServerService/ReadinessCheck': async (q) => mergeReadiness(await askAll(q)),
  // The router's own health: it is serving if it answers at all.
  '/grpc.health.v1.Health/Check': async () => SERVING,
};

export function serverScopedHandler(ctx: ServerScopedContext, method: MethodInfo): (call: ServerCall) => void {
  const answerer = ANSWERERS[method.path];
  return (call) => {
    call.on('error', () => undefined);
    const authError = ctx.auth === undefined ? null : authenticateMetadata(call.metadata, ctx.auth);
    if (authError !== null) return fail(call, { code: grpc.status.UNAUTHENTICATED, details: authError.details ?? 'unauthenticated' });
    if (answerer === undefined) return fail(call, { code: grpc.status.UNIMPLEMENTED, details: `the router does not answer ${method.path}` });
    let asked = false;
    const ask = (request: Buffer): void => {
      if (asked) return;
      asked = true;
      void respond(call, answerer, { ctx, method, request, deadline: fanOutDeadline(call.getDeadline(), ctx.fanOutTimeoutMs) });
    };
    call.on('data', ask);
    call.on('end', () => ask(Buffer.alloc(0)));
  };
}

async function respond(call: ServerCall, answerer: Answerer, question: Question): Promise<void> {
  try {
    const answer = await answerer(question);
    const type = question.ctx.root.lookupType(question.method.responseType);
    call.write(Buffer.from(type.encode(type.fromObject(answer)).finish()));
    call.end();
  } catch (error) {
    fail(call, statusOfError(error));
  }
}

async function askAll<T>(question: Question): Promise<Array<NodeAnswer<T>>> {
  const nodes = await question.ctx.nodes();
  const type = question.ctx.root.lookupType(question.method.responseType);
  return Promise.all(
    nodes.map(async (node: NodeTarget): Promise<NodeAnswer<T>> => {
      try {
        const bytes = await callNode(question.ctx, node, question.method.path, question.request, question.deadline);
        return { node, ok: true, value: type.toObject(type.decode(bytes), TO_OBJECT_OPTIONS) as T };
      } catch (error) {
        return { node, ok: false, error: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
}

function fanOutDeadline(callDeadline: grpc.Deadline, timeoutMs: number): number {
  const own = Date.now() + timeoutMs;
  const client = callDeadline instanceof Date ? callDeadline.getTime() : callDeadline;
  return Math.min(own, client);
}

function fail(call: ServerCall, status: { code: grpc.status; details: string }): void {
  call.emit('error', { ...status, metadata: new grpc.Metadata() });
}

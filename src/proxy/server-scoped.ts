// Server-scoped calls (services marked `intercepted`): the router answers
// them itself, asking every node where the answer is about nodes. The
// answer is transport-free bytes; each transport sends it its own way.
import type * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { TO_OBJECT_OPTIONS, type MethodInfo } from '../protocol/index.js';
import { callNode, type NodeCallContext } from './node-call.js';
import type { NodeLister, NodeTarget } from './route.js';
import { mergeDiskStatistics, mergeReadiness, mergeServerInfo, type NodeAnswer } from './server-merge.js';

export interface ServerScopedContext extends NodeCallContext {
  root: protobuf.Root;
  nodes: NodeLister;
  serverVersion: string;
  /** Bound on each node call, within the client's own deadline. */
  fanOutTimeoutMs: number;
}

interface Question {
  ctx: ServerScopedContext;
  method: MethodInfo;
  request: Uint8Array;
  deadlineMs: number;
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

/** Health checks need no token (load balancers and probes carry none), as in Gitaly. */
export function needsAuthentication(method: MethodInfo): boolean {
  return method.service !== 'grpc.health.v1.Health';
}

export function answersServerScoped(method: MethodInfo): boolean {
  return ANSWERERS[method.path] !== undefined;
}

/** The encoded response; rejects when the method has no answerer (check answersServerScoped first). */
export async function answerServerScoped(ctx: ServerScopedContext, method: MethodInfo, request: Uint8Array, clientDeadlineMs: number): Promise<Uint8Array> {
  const answerer = ANSWERERS[method.path];
  if (answerer === undefined) throw new Error(`no answer for ${method.path}`);
  const answer = await answerer({ ctx, method, request, deadlineMs: Math.min(clientDeadlineMs, Date.now() + ctx.fanOutTimeoutMs) });
  const type = ctx.root.lookupType(method.responseType);
  return type.encode(type.fromObject(answer)).finish();
}

async function askAll<T>(question: Question): Promise<Array<NodeAnswer<T>>> {
  const nodes = await question.ctx.nodes();
  const type = question.ctx.root.lookupType(question.method.responseType);
  return Promise.all(
    nodes.map(async (node: NodeTarget): Promise<NodeAnswer<T>> => {
      try {
        const bytes = await callNode(question.ctx, node, question.method.path, question.request, question.deadlineMs);
        return { node, ok: true, value: type.toObject(type.decode(bytes), TO_OBJECT_OPTIONS) as T };
      } catch (error) {
        return { node, ok: false, error: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
}

/** A grpc-js deadline as epoch milliseconds (Infinity when none). */
export function deadlineMs(deadline: grpc.Deadline): number {
  return deadline instanceof Date ? deadline.getTime() : deadline;
}

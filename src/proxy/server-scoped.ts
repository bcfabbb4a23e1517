// Server-scoped calls (services marked `intercepted`): the router answers
// them itself, asking every node where the answer is about nodes. The
// answer is transport-free bytes; each transport sends it its own way.
import type * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { TO_OBJECT_OPTIONS, type MethodInfo } from '../protocol/index.js';
import { LocalAnswerError } from './errors.js';
import { callNode, type NodeCallContext } from './node-call.js';
import type { NodeLister, NodeTarget } from './route.js';
import { mergeDiskStatistics, mergeReadiness, mergeServerInfo, type NodeAnswer } from './server-merge.js';

export interface ServerScopedContext extends NodeCallContext {
  root: protobuf.Root;
  nodes: NodeLister;
  serverVersion: string;
  /** Bound on each node call, within the client's own deadline. */
  fanOutTimeoutMs: number;
  /** Methods the process answers on its own (the votes of reference transactions). */
  local?: LocalAnswerer;
}

/**
 * Answers for methods of intercepted services that need the process's own
 * state rather than the nodes (RefTransaction). Not bounded by
 * fanOutTimeoutMs: a vote waits as long as its transaction allows.
 */
export interface LocalAnswerer {
  handles(path: string): boolean;
  /** `signal` aborts when the caller hung up. */
  answer(path: string, request: Uint8Array, signal: AbortSignal): Promise<Uint8Array>;
  /** The status a rejection of answer() becomes. */
  statusOf(error: unknown): { code: number; details: string };
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

export function answersServerScoped(ctx: ServerScopedContext, method: MethodInfo): boolean {
  return ANSWERERS[method.path] !== undefined || ctx.local?.handles(method.path) === true;
}

/** The encoded response; rejects when the method has no answerer (check answersServerScoped first). */
export async function answerServerScoped(
  ctx: ServerScopedContext,
  method: MethodInfo,
  request: Uint8Array,
  clientDeadlineMs: number,
  signal: AbortSignal,
): Promise<Uint8Array> {
  const local = ctx.local;
  if (local?.handles(method.path) === true) return answerLocally(local, method, request, signal);
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

async function answerLocally(local: LocalAnswerer, method: MethodInfo, request: Uint8Array, signal: AbortSignal): Promise<Uint8Array> {
  try {
    return await local.answer(method.path, request, signal);
  } catch (error) {
    const status = local.statusOf(error);
    throw new LocalAnswerError(status.code, status.details);
  }
}

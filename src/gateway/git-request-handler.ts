// One smart-HTTP request, start to finish: route it, open the matching
// SmartHTTPService call, relay the bytes both ways, and settle on the first
// failure (cancelling the call and discarding the rest of the body).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { HttpError } from './http-error.js';
import { relayRequest } from './request-relay.js';
import { openRequestBody } from './request-body.js';
import { relayResponse } from './response-relay.js';
import type { GitRoute, GitService } from './repository-path.js';
import type { PostPackFirstMessage, Repository, SmartHttpClient } from './smart-http-client.js';

export const MAX_GIT_PROTOCOL_HEADER_LENGTH = 256;

export interface GitRequestContext {
  client: SmartHttpClient;
  storageName: string;
  maxRequestBytes: Record<GitService, number>;
  /** Identity fields for receive-pack hooks, as Workhorse would send them. */
  hookIdentity: Pick<PostPackFirstMessage, 'gl_id' | 'gl_username' | 'gl_repository'>;
}

export async function handleGitRequest(
  req: IncomingMessage,
  res: ServerResponse,
  route: GitRoute,
  context: GitRequestContext,
): Promise<void> {
  const repository: Repository = { storage_name: context.storageName, relative_path: route.relativePath };
  const gitProtocol = gitProtocolHeader(req);
  if (route.kind === 'info-refs') return infoRefs(res, route.service, repository, gitProtocol, context);
  requireContentType(req, `application/x-${route.service}-request`);
  const body = openRequestBody(req, context.maxRequestBytes[route.service]);
  const first: PostPackFirstMessage = { repository, git_protocol: gitProtocol };
  if (route.service === 'git-receive-pack') Object.assign(first, context.hookIdentity);
  return postPack(res, route.service, body, first, context);
}

async function infoRefs(
  res: ServerResponse,
  service: GitService,
  repository: Repository,
  gitProtocol: string,
  context: GitRequestContext,
): Promise<void> {
  const call = context.client.infoRefs(service, { repository, git_protocol: gitProtocol });
  const settle = settleOnce(res, () => call.cancel());
  await relayResponse(call, res, `application/x-${service}-advertisement`, settle.signal).catch(settle.fail);
  settle.rethrow();
}

async function postPack(
  res: ServerResponse,
  service: GitService,
  body: Readable,
  first: PostPackFirstMessage,
  context: GitRequestContext,
): Promise<void> {
  const call = context.client.postPack(service);
  const settle = settleOnce(res, () => {
    call.cancel();
    body.destroy();
  });
  // Once the response is complete the call is over: a body the server did
  // not read to the end must not keep the request side waiting for a drain.
  const responseDone = new AbortController();
  const requestSignal = AbortSignal.any([settle.signal, responseDone.signal]);
  const requestSide = relayRequest(body, call, first, requestSignal).catch((error: unknown) => {
    if (!responseDone.signal.aborted) settle.fail(error);
  });
  await relayResponse(call, res, `application/x-${service}-result`, settle.signal).catch(settle.fail);
  responseDone.abort();
  body.destroy();
  await requestSide;
  settle.rethrow();
}

/**
 * The first failure wins: it aborts both directions and runs cleanup once;
 * later failures (the CANCELLED that cleanup itself causes) are ignored.
 * A client that hangs up also counts as a failure, so the call is cancelled.
 */
function settleOnce(res: ServerResponse, cleanup: () => void) {
  const controller = new AbortController();
  const fail = (error: unknown): void => {
    if (controller.signal.aborted) return;
    controller.abort(error);
    cleanup();
  };
  const onClose = (): void => {
    if (!res.writableFinished) fail(new ClientGoneError());
  };
  res.on('close', onClose);
  return {
    signal: controller.signal,
    fail,
    rethrow(): void {
      res.off('close', onClose);
      if (controller.signal.aborted) throw controller.signal.reason;
    },
  };
}

/** The HTTP client disconnected; there is no one left to answer. */
export class ClientGoneError extends Error {
  constructor() {
    super('the HTTP client disconnected');
    this.name = 'ClientGoneError';
  }
}

function gitProtocolHeader(req: IncomingMessage): string {
  const value = req.headers['git-protocol'];
  if (value === undefined) return '';
  if (Array.isArray(value) || value.length > MAX_GIT_PROTOCOL_HEADER_LENGTH || !/^[\x20-\x7e]*$/.test(value)) {
    throw new HttpError(400, `the Git-Protocol header must be one printable ASCII value of at most ${MAX_GIT_PROTOCOL_HEADER_LENGTH} characters`);
  }
  return value;
}

function requireContentType(req: IncomingMessage, expected: string): void {
  const actual = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (actual !== expected) {
    throw new HttpError(415, `expected Content-Type ${expected}`);
  }
}

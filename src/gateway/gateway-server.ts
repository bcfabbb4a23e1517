// The git smart-HTTP gateway: a node:http server in front of a gRPC
// SmartHTTPService target. Requests beyond the concurrency bound get 429;
// close() drains requests in flight for a bounded grace period.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { ClientGoneError, handleGitRequest, type GitRequestContext } from './git-request-handler.js';
import { HttpError, toHttpError } from './http-error.js';
import { parseGatewayOptions, type GatewayOptions, type GatewayOptionsInput } from './gateway-options.js';
import { routeRequest } from './repository-path.js';
import { createSmartHttpClient, type SmartHttpClient } from './smart-http-client.js';

export interface GitGateway {
  /** Resolves with the bound address once listening. */
  listen(port: number, host: string): Promise<AddressInfo>;
  close(): Promise<void>;
  readonly server: Server;
}

export interface GitGatewayDeps {
  logger?: Logger;
  /** Tests inject a client; by default one is made for options.target. */
  client?: SmartHttpClient;
}

export function createGitGateway(input: GatewayOptionsInput, deps: GitGatewayDeps = {}): GitGateway {
  const options = parseGatewayOptions(input);
  const client = deps.client ?? createSmartHttpClient({ target: options.target, token: options.token });
  const context = requestContext(options, client);
  let inFlight = 0;
  let idle: (() => void) | undefined;
  const server = createServer({ headersTimeout: options.headersTimeoutMs, requestTimeout: 0 }, (req, res) => {
    if (inFlight >= options.maxConcurrentRequests) {
      sendError(req, res, new HttpError(429, `the gateway is at its limit of ${options.maxConcurrentRequests} concurrent requests; retry`, { 'Retry-After': '1' }));
      return;
    }
    inFlight++;
    void serve(req, res, context, deps.logger).finally(() => {
      inFlight--;
      if (inFlight === 0) idle?.();
    });
  });
  server.setTimeout(options.idleTimeoutMs);
  return {
    server,
    listen: (port, host) => listen(server, port, host),
    async close() {
      await drain(server, () => inFlight, (resolve) => (idle = resolve), options.shutdownGraceMs);
      client.close();
    },
  };
}

function requestContext(options: GatewayOptions, client: SmartHttpClient): GitRequestContext {
  return {
    client,
    storageName: options.storage,
    maxRequestBytes: {
      'git-upload-pack': options.maxUploadPackRequestBytes,
      'git-receive-pack': options.maxReceivePackRequestBytes,
    },
    hookIdentity: { gl_id: options.glId, gl_username: options.glUsername, gl_repository: options.glRepository },
  };
}

async function serve(req: IncomingMessage, res: ServerResponse, context: GitRequestContext, logger?: Logger): Promise<void> {
  try {
    const route = routeRequest(req.method ?? '', req.url ?? '');
    await handleGitRequest(req, res, route, context);
  } catch (error) {
    if (error instanceof ClientGoneError) return;
    const httpError = toHttpError(error);
    const level = httpError.statusCode >= 500 ? 'error' : 'info';
    logger?.[level]({ method: req.method, url: req.url, status: httpError.statusCode, err: error }, httpError.message);
    sendError(req, res, httpError);
  }
}

function sendError(req: IncomingMessage, res: ServerResponse, error: HttpError): void {
  // Too late for a status: abort so git sees a broken transfer, not a short one.
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Record<string, string> = { 'Content-Type': 'text/plain; charset=utf-8', ...error.headers };
  // An unread body would otherwise have to be read to reuse the connection.
  if (!req.complete) headers.Connection = 'close';
  res.writeHead(error.statusCode, headers);
  res.end(`${error.message}\n`);
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

async function drain(
  server: Server,
  inFlight: () => number,
  onIdle: (resolve: () => void) => void,
  graceMs: number,
): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  if (inFlight() > 0) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => onIdle(resolve)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
    ]);
    clearTimeout(timer);
  }
  server.closeAllConnections();
  await closed;
}

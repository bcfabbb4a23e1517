// Prometheus metrics of the storage node, on prometheus_listen_addr.
// Names follow Gitaly's where the meaning is the same.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'prom-client';
import type { AuthObserver } from '../auth/index.js';
import type { GitRunner } from './git-runner.js';
import type { CallObserver } from './call-observer.js';

export interface NodeMetrics {
  registry: client.Registry;
  observeCall: CallObserver;
  observeAuth: AuthObserver;
}

const GRPC_CODE_NAMES = [
  'OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied',
  'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable',
  'DataLoss', 'Unauthenticated',
];

export function createNodeMetrics(git: GitRunner): NodeMetrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const handled = new client.Counter({
    name: 'grpc_server_handled_total',
    help: 'Total number of RPCs completed on the server, regardless of success or failure.',
    labelNames: ['grpc_service', 'grpc_method', 'grpc_code'],
    registers: [registry],
  });
  const latency = new client.Histogram({
    name: 'grpc_server_handling_seconds',
    help: 'Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.',
    labelNames: ['grpc_service', 'grpc_method'],
    buckets: [0.005, 0.025, 0.1, 0.5, 1, 5, 30, 120],
    registers: [registry],
  });
  const auth = new client.Counter({
    name: 'gitaly_authentications_total',
    help: 'Counts of of Gitaly request authentication attempts',
    labelNames: ['enforced', 'status'],
    registers: [registry],
  });
  new client.Gauge({
    name: 'gitaly_concurrency_limiting_in_progress',
    help: 'Gauge of number of concurrent in-progress git processes',
    registers: [registry],
    collect() {
      this.set(git.inProgress);
    },
  });
  new client.Gauge({
    name: 'gitaly_concurrency_limiting_queued',
    help: 'Gauge of number of git processes waiting for a slot',
    registers: [registry],
    collect() {
      this.set(git.queued);
    },
  });
  return {
    registry,
    observeCall({ path, code, durationSec }) {
      const [, service = '', method = ''] = path.split('/');
      handled.inc({ grpc_service: service, grpc_method: method, grpc_code: GRPC_CODE_NAMES[code] ?? String(code) });
      latency.observe({ grpc_service: service, grpc_method: method }, durationSec);
    },
    observeAuth(attempt) {
      auth.inc({ enforced: String(attempt.enforced), status: attempt.status });
    },
  };
}

/** Serves GET /metrics; resolves once listening. */
export async function serveMetrics(registry: client.Registry, hostPort: string): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  const { host, port } = splitHostPort(hostPort);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export function splitHostPort(hostPort: string): { host: string; port: number } {
  const colon = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { host: host.length === 0 ? '0.0.0.0' : host, port: Number(hostPort.slice(colon + 1)) };
}

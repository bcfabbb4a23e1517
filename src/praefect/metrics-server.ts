import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type * as client from 'prom-client';

export interface MetricsServer {
  readonly address: string;
  close(): Promise<void>;
}

/** /metrics on its own listener, as upstream serves prometheus_listen_addr. */
export async function startMetricsServer(registry: client.Registry, listen: string): Promise<MetricsServer> {
  const server = http.createServer((request, response) => {
    if (request.url !== '/metrics') {
      response.writeHead(404).end('not found; metrics are at /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: unknown) => response.writeHead(500).end(String(error)),
    );
  });
  const separator = listen.lastIndexOf(':');
  const host = listen.slice(0, separator).replace(/^\[|\]$/g, '') || '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(listen.slice(separator + 1)), host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    address: `${host}:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

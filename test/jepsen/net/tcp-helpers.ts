// Real loopback sockets for the proxy tests: an echo server and a client that
// collects what it receives, with waits that poll against a deadline.
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import type { HostPort } from '../../../jepsen/net/index.js';

export interface EchoServer {
  readonly address: HostPort;
  readonly server: Server;
  /** Bytes the server received, over all connections. */
  received(): string;
  connections(): number;
  /** The server side of each open connection, to write unprompted. */
  sockets(): Socket[];
  close(): Promise<void>;
}

export async function startEchoServer(): Promise<EchoServer> {
  let received = '';
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
      socket.write(chunk);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    address: { host: '127.0.0.1', port },
    server,
    received: () => received,
    connections: () => connections,
    sockets: () => [...sockets],
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface RecordingClient {
  readonly socket: Socket;
  received(): string;
  error(): NodeJS.ErrnoException | null;
  closed(): boolean;
}

export async function connectRecording(address: HostPort): Promise<RecordingClient> {
  const socket = connect({ host: address.host, port: address.port });
  let received = '';
  let error: NodeJS.ErrnoException | null = null;
  let closed = false;
  socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
  socket.on('error', (e: NodeJS.ErrnoException) => (error = e));
  socket.on('close', () => (closed = true));
  await once(socket, 'connect');
  return { socket, received: () => received, error: () => error, closed: () => closed };
}

/** Poll `condition` until true or the deadline; returns whether it became true. */
export async function waitFor(condition: () => boolean, timeoutMs: number, stepMs = 5): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
  return condition();
}

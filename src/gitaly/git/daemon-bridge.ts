// A one-connection git:// server on loopback. `git fetch git://…` against it
// lets git itself do the negotiation while the bytes travel over whatever
// the handler connects them to (for replication: another node's
// SSHUploadPack). The path carries a random token, so no other local
// process can use the listener in the moment it is open.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { readPktLine } from './pkt-line.js';

export interface DaemonRequest {
  /** "git-upload-pack" */
  service: string;
  /** Extra parameters after the host, e.g. ["version=2"]. */
  extraParameters: string[];
}

export type DaemonHandler = (request: DaemonRequest, socket: net.Socket, initialData: Buffer) => Promise<void>;

export interface OneShotDaemon {
  url: string;
  /** Settles when the one connection has been handled. */
  done: Promise<void>;
  close(): void;
}

const MAX_REQUEST_LINE_BYTES = 8192;

export async function startOneShotDaemon(handler: DaemonHandler): Promise<OneShotDaemon> {
  const token = randomBytes(16).toString('hex');
  let settle!: { resolve: () => void; reject: (error: unknown) => void };
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  done.catch(() => undefined);
  const server = net.createServer((socket) => {
    server.close(); // one connection only
    readRequest(socket, token).then(
      ({ request, rest }) => handler(request, socket, rest).then(settle.resolve, settle.reject),
      (error: unknown) => {
        socket.destroy();
        settle.reject(error);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return { url: `git://127.0.0.1:${port}/${token}`, done, close: () => server.close() };
}

// The first pkt-line: "git-upload-pack /<path>\0host=<host>\0[\0<extra>\0...]".
function readRequest(socket: net.Socket, token: string): Promise<{ request: DaemonRequest; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      try {
        const line = readPktLine(buffered);
        if (line === undefined) {
          if (buffered.length > MAX_REQUEST_LINE_BYTES) throw new Error('git:// request line too long');
          return;
        }
        socket.off('data', onData);
        socket.pause();
        resolve({ request: parseRequestLine(line.payload, token), rest: line.rest });
      } catch (error) {
        socket.off('data', onData);
        reject(error);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

function parseRequestLine(payload: Buffer, token: string): DaemonRequest {
  const [command = '', ...params] = payload.toString('utf8').split('\0');
  const space = command.indexOf(' ');
  const service = command.slice(0, space);
  const requestedPath = command.slice(space + 1);
  if (requestedPath !== `/${token}`) throw new Error('git:// request for an unknown path');
  return { service, extraParameters: params.filter((p) => p.length > 0 && !p.startsWith('host=')) };
}

// Copies a gRPC response stream of {data} messages into an HTTP response,
// pulling one message at a time so a slow git client slows the gRPC stream
// (and through its flow control, the git process behind it).
//
// Headers are written only with the first byte: until then a gRPC error can
// still become a proper HTTP status. After it, an error can only abort the
// response, which git reports as a broken transfer instead of a short one.
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { DataMessage } from './smart-http-client.js';

export const NO_CACHE_HEADERS: Readonly<Record<string, string>> = {
  'Cache-Control': 'no-cache, max-age=0, must-revalidate',
  Expires: 'Fri, 01 Jan 1980 00:00:00 GMT',
  Pragma: 'no-cache',
};

export async function relayResponse(
  messages: Readable,
  res: ServerResponse,
  contentType: string,
  signal: AbortSignal,
): Promise<void> {
  const headers = { 'Content-Type': contentType, ...NO_CACHE_HEADERS };
  for await (const message of messages as AsyncIterable<DataMessage>) {
    signal.throwIfAborted();
    if (message.data.length === 0) continue;
    if (!res.headersSent) res.writeHead(200, headers);
    if (!res.write(message.data)) await once(res, 'drain', { signal });
  }
  signal.throwIfAborted();
  if (!res.headersSent) res.writeHead(200, headers);
  res.end();
}

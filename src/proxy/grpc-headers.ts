// gRPC over HTTP/2 headers for the frame-level transport: which headers
// travel, statuses as trailers, statuses read back, and grpc-timeout.
import type http2 from 'node:http2';
import { constants as h2 } from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { InvalidRequestError } from './errors.js';
import { ROUTER_OWNED_METADATA } from './router-owned-metadata.js';

/** Connection-specific or rewritten by us; never copied from one hop to the next. */
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'content-length', 'authorization', 'grpc-timeout']);

/** The client's headers a node may see: no pseudo-headers, no hop headers, nothing the router owns. */
export function forwardableHeaders(headers: http2.IncomingHttpHeaders, into: http2.OutgoingHttpHeaders): http2.OutgoingHttpHeaders {
  for (const key in headers) {
    if (key.charCodeAt(0) !== 58 && !HOP_HEADERS.has(key) && !ROUTER_OWNED_METADATA.has(key)) into[key] = headers[key];
  }
  return into;
}

/** A node's response headers or trailers, for the client. */
export function responseHeaders(headers: http2.IncomingHttpHeaders): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = { ':status': 200 };
  for (const key in headers) {
    if (key.charCodeAt(0) !== 58 && !HOP_HEADERS.has(key)) out[key] = headers[key];
  }
  return out;
}

/** grpc-js encodes details with encodeURI and decodes with decodeURI; so do we. */
export function statusTrailers(code: grpc.status, details: string): http2.OutgoingHttpHeaders {
  return { 'grpc-status': String(code), 'grpc-message': encodeURI(details) };
}

/** A response that is only trailers: the way to fail before any response header went out. */
export function trailersOnly(code: grpc.status, details: string): http2.OutgoingHttpHeaders {
  return { ':status': 200, 'content-type': 'application/grpc', ...statusTrailers(code, details) };
}

export function statusFromTrailers(trailers: http2.IncomingHttpHeaders): grpc.StatusObject {
  const code = Number(trailers['grpc-status']);
  const raw = trailers['grpc-message'];
  let details = typeof raw === 'string' ? raw : '';
  try {
    details = decodeURI(details);
  } catch {
    // Undecodable: keep the raw text.
  }
  const metadata = grpc.Metadata.fromHttp2Headers(trailers);
  metadata.remove('grpc-status');
  metadata.remove('grpc-message');
  return { code: Number.isInteger(code) ? code : grpc.status.UNKNOWN, details, metadata };
}

/** The status a call gets when its HTTP/2 stream was reset (as grpc-js maps it). */
export function statusFromReset(rstCode: number, cause: string | undefined): { code: grpc.status; details: string } {
  const why = cause === undefined ? `the node reset the stream (code ${rstCode})` : `cannot reach the node: ${cause}`;
  switch (rstCode) {
    case h2.NGHTTP2_REFUSED_STREAM:
      return { code: grpc.status.UNAVAILABLE, details: why };
    case h2.NGHTTP2_CANCEL:
      return { code: cause === undefined ? grpc.status.CANCELLED : grpc.status.UNAVAILABLE, details: why };
    case h2.NGHTTP2_ENHANCE_YOUR_CALM:
      return { code: grpc.status.RESOURCE_EXHAUSTED, details: why };
    case h2.NGHTTP2_INADEQUATE_SECURITY:
      return { code: grpc.status.PERMISSION_DENIED, details: why };
    default:
      return { code: cause === undefined ? grpc.status.INTERNAL : grpc.status.UNAVAILABLE, details: why };
  }
}

/** The gRPC status of a non-200 HTTP response (gRPC's HTTP-to-status mapping). */
export function statusFromHttp(httpStatus: number): grpc.status {
  switch (httpStatus) {
    case 400:
      return grpc.status.INTERNAL;
    case 401:
      return grpc.status.UNAUTHENTICATED;
    case 403:
      return grpc.status.PERMISSION_DENIED;
    case 404:
      return grpc.status.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return grpc.status.UNAVAILABLE;
    default:
      return grpc.status.UNKNOWN;
  }
}

const TIMEOUT_UNITS_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 0.001, n: 0.000_001 };

/** The call's deadline as epoch milliseconds; Infinity without grpc-timeout. */
export function deadlineFromHeaders(headers: http2.IncomingHttpHeaders, nowMs: number): number {
  const value = headers['grpc-timeout'];
  if (value === undefined) return Number.POSITIVE_INFINITY;
  const match = typeof value === 'string' ? /^(\d{1,8})([HMSmun])$/.exec(value) : null;
  if (match === null) throw new InvalidRequestError('grpc-timeout', `malformed value "${String(value)}"`);
  return nowMs + Number(match[1]) * (TIMEOUT_UNITS_MS[match[2] as string] as number);
}

/** The time left as a grpc-timeout value, rounded up as grpc-js does. */
export function grpcTimeout(remainingMs: number): string {
  const ms = Math.max(0, remainingMs);
  if (ms < 1e8) return `${Math.ceil(ms)}m`;
  if (ms / 1_000 < 1e8) return `${Math.ceil(ms / 1_000)}S`;
  return `${Math.min(99_999_999, Math.ceil(ms / 3_600_000))}H`;
}

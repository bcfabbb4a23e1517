// Gitaly's v2 authentication token: `v2.<hex HMAC-SHA256(secret, ts)>.<ts>`,
// where ts is a decimal unix timestamp in seconds. Upstream checks the
// signature first and the time window second, so a client without the secret
// learns nothing about the server's clock; we keep that order.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** How far a token's timestamp may be from the server's clock, either way. */
export const TOKEN_VALIDITY_SEC = 30;

/** Longer headers are refused before any parsing or hashing. */
export const MAX_AUTHORIZATION_HEADER_LENGTH = 512;

const SIGNATURE_BYTES = 32;
const HEX_PATTERN = /^[0-9a-fA-F]*$/;
// Twelve digits reach the year 33658; more would only be an attack on parsing.
const TIMESTAMP_PATTERN = /^[0-9]{1,12}$/;

export type V2TokenFailureReason = 'missing' | 'malformed' | 'expired' | 'not yet valid' | 'signature mismatch';

export type V2TokenCheck =
  | { ok: true }
  | { ok: false; reason: V2TokenFailureReason; detail: string };

export function makeV2Token(secret: string, nowSec: number): string {
  if (secret.length === 0) throw new Error('makeV2Token: the secret must not be empty');
  if (!Number.isSafeInteger(nowSec) || nowSec < 0) {
    throw new Error(`makeV2Token: nowSec must be a non-negative integer, got ${nowSec}`);
  }
  const message = String(nowSec);
  return `v2.${sign(secret, message).toString('hex')}.${message}`;
}

/** The value of an `authorization` header or metadata entry carrying a fresh token. */
export function makeV2AuthorizationHeader(secret: string, nowSec: number): string {
  return `Bearer ${makeV2Token(secret, nowSec)}`;
}

export function checkV2Token(authorizationHeader: string | undefined, secret: string, nowSec: number): V2TokenCheck {
  if (secret.length === 0) throw new Error('checkV2Token: the secret must not be empty');
  const parsed = parseAuthorizationHeader(authorizationHeader);
  if (!parsed.ok) return parsed;
  if (!signatureMatches(parsed.signature, secret, parsed.message)) {
    return fail('signature mismatch', 'the token was not signed with this server\'s secret');
  }
  const issuedSec = Number(parsed.message);
  if (issuedSec < nowSec - TOKEN_VALIDITY_SEC) {
    return fail('expired', `the token is more than ${TOKEN_VALIDITY_SEC}s old; check the clocks`);
  }
  if (issuedSec > nowSec + TOKEN_VALIDITY_SEC) {
    return fail('not yet valid', `the token is more than ${TOKEN_VALIDITY_SEC}s in the future; check the clocks`);
  }
  return { ok: true };
}

export type ParsedV2Header =
  | { ok: true; signature: Buffer; message: string }
  | { ok: false; reason: 'missing' | 'malformed'; detail: string };

/** Splits `Bearer v2.<hex>.<ts>`; the scheme is case-insensitive, as in grpc-middleware. */
export function parseAuthorizationHeader(header: string | undefined): ParsedV2Header {
  if (header === undefined || header.length === 0) return fail('missing', 'no authorization header');
  if (header.length > MAX_AUTHORIZATION_HEADER_LENGTH) {
    return fail('malformed', `authorization header longer than ${MAX_AUTHORIZATION_HEADER_LENGTH} characters`);
  }
  const space = header.indexOf(' ');
  if (space < 0 || header.slice(0, space).toLowerCase() !== 'bearer') {
    return fail('malformed', 'expected "Bearer <token>"');
  }
  return parseToken(header.slice(space + 1));
}

function parseToken(token: string): ParsedV2Header {
  const parts = token.split('.');
  if (parts.length !== 3) return fail('malformed', 'expected a token of the form v2.<signature>.<timestamp>');
  const [version, signatureHex, message] = parts as [string, string, string];
  if (version !== 'v2') return fail('malformed', 'unsupported token version; only v2 is accepted');
  if (signatureHex.length === 0 || signatureHex.length % 2 !== 0 || !HEX_PATTERN.test(signatureHex)) {
    return fail('malformed', 'the signature is not hexadecimal');
  }
  if (!TIMESTAMP_PATTERN.test(message)) return fail('malformed', 'the timestamp is not a decimal unix time');
  return { ok: true, signature: Buffer.from(signatureHex, 'hex'), message };
}

function signatureMatches(given: Buffer, secret: string, message: string): boolean {
  const expected = sign(secret, message);
  if (given.length !== SIGNATURE_BYTES) {
    // timingSafeEqual throws on unequal lengths; spend the same comparison
    // anyway so a wrong length costs what a wrong signature costs.
    timingSafeEqual(expected, expected);
    return false;
  }
  return timingSafeEqual(given, expected);
}

function sign(secret: string, message: string): Buffer {
  return createHmac('sha256', secret).update(message).digest();
}

function fail<R extends V2TokenFailureReason>(reason: R, detail: string): { ok: false; reason: R; detail: string } {
  return { ok: false, reason, detail };
}

// The `praefect-write` call metadata: the router tells a storage node which
// repository a forwarded mutator writes, the generation it routed the write
// with, whether this node is the write's primary, and which router sent it.
// Base64 of JSON {"repository_id": 7, "generation": 3, "primary": true,
// "router": "praefect-1"}. The node writes it to its write log (write-log.ts)
// so an outside checker can see who wrote each generation.
import type * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError } from './errors.js';

export const WRITE_MARKER_METADATA_KEY = 'praefect-write';

/** The longest router name a marker may carry; the header stays small. */
const MAX_ROUTER_NAME_CHARS = 255;
const MAX_WRITE_ID_CHARS = 64;
/** A generation the cluster state uses for "no replica yet" (replica-set.ts NO_GENERATION). */
const LOWEST_GENERATION = -1;

export interface WriteMarker {
  readonly repositoryId: number;
  /** The repository's generation on the primary when the router routed the write. */
  readonly generation: number;
  /** Whether the receiving node is the primary of this write (false: a transaction's secondary). */
  readonly primary: boolean;
  readonly router: string;
  /**
   * The write's identity (the router's write intent id): the router logs the
   * ids of the writes it acknowledged, so a checker can tell a write the
   * cluster took from one whose generation bump was refused.
   */
  readonly write?: string;
}

/** A malformed marker: INVALID_ARGUMENT, the message names the field. */
export class WriteMarkerError extends InvalidArgumentError {}

export function encodeWriteMarker(marker: WriteMarker): string {
  checkMarker(marker);
  const wire = { repository_id: marker.repositoryId, generation: marker.generation, primary: marker.primary, router: marker.router, ...(marker.write === undefined ? {} : { write: marker.write }) };
  return Buffer.from(JSON.stringify(wire)).toString('base64');
}

export function withWriteMarker(metadata: grpc.Metadata, marker: WriteMarker): grpc.Metadata {
  metadata.set(WRITE_MARKER_METADATA_KEY, encodeWriteMarker(marker));
  return metadata;
}

/** The call's marker, undefined when it carries none; WriteMarkerError (INVALID_ARGUMENT) naming the field when malformed. */
export function parseWriteMarker(metadata: grpc.Metadata): WriteMarker | undefined {
  const values = metadata.get(WRITE_MARKER_METADATA_KEY);
  if (values.length === 0) return undefined;
  if (values.length > 1) throw new WriteMarkerError(`${WRITE_MARKER_METADATA_KEY}: ${values.length} values, expected one`);
  return decodeWriteMarker(values[0]!.toString());
}

/** Decodes one header value; WriteMarkerError naming the field when malformed. */
export function decodeWriteMarker(value: string): WriteMarker {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
  } catch {
    throw new WriteMarkerError(`${WRITE_MARKER_METADATA_KEY}: not base64-encoded JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new WriteMarkerError(`${WRITE_MARKER_METADATA_KEY}: not a JSON object`);
  const wire = parsed as Record<string, unknown>;
  const marker = { repositoryId: wire['repository_id'], generation: wire['generation'], primary: wire['primary'], router: wire['router'], write: wire['write'] };
  checkMarker(marker);
  return marker;
}

function checkMarker(marker: Record<keyof WriteMarker, unknown> | WriteMarker): asserts marker is WriteMarker {
  const field = (name: string, problem: string): WriteMarkerError => new WriteMarkerError(`${WRITE_MARKER_METADATA_KEY}: ${name}: ${problem}`);
  const { repositoryId, generation, primary, router, write } = marker;
  if (typeof repositoryId !== 'number' || !Number.isSafeInteger(repositoryId) || repositoryId <= 0) throw field('repository_id', 'must be a positive integer');
  if (typeof generation !== 'number' || !Number.isSafeInteger(generation) || generation < LOWEST_GENERATION) throw field('generation', `must be an integer of at least ${LOWEST_GENERATION}`);
  if (typeof primary !== 'boolean') throw field('primary', 'must be true or false');
  if (typeof router !== 'string' || router.length === 0 || router.length > MAX_ROUTER_NAME_CHARS) throw field('router', `must be a name of 1 to ${MAX_ROUTER_NAME_CHARS} characters`);
  if (write !== undefined && (typeof write !== 'string' || write.length === 0 || write.length > MAX_WRITE_ID_CHARS)) throw field('write', `must be an id of 1 to ${MAX_WRITE_ID_CHARS} characters`);
}

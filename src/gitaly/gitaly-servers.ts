// The `gitaly-servers` call metadata: how a node reaches other nodes named
// in a request (e.g. a replication source). Base64 of JSON
// {"<storage>": {"address": "tcp://host:port", "token": "<secret>"}}, as in
// Gitaly.
import type * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError } from './errors.js';

export const GITALY_SERVERS_METADATA_KEY = 'gitaly-servers';

export interface ServerAddress {
  address: string;
  token: string;
}

export type GitalyServers = Record<string, ServerAddress>;

export function encodeGitalyServers(servers: GitalyServers): string {
  return Buffer.from(JSON.stringify(servers)).toString('base64');
}

export function withGitalyServers(metadata: grpc.Metadata, servers: GitalyServers): grpc.Metadata {
  metadata.set(GITALY_SERVERS_METADATA_KEY, encodeGitalyServers(servers));
  return metadata;
}

/** The entries of the call's metadata; empty when it has none. */
export function parseGitalyServers(metadata: grpc.Metadata): GitalyServers {
  const value = metadata.get(GITALY_SERVERS_METADATA_KEY)[0];
  if (value === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value.toString(), 'base64').toString('utf8'));
  } catch {
    throw new InvalidArgumentError(`${GITALY_SERVERS_METADATA_KEY} metadata is not base64-encoded JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null) throw new InvalidArgumentError(`${GITALY_SERVERS_METADATA_KEY} metadata is not an object`);
  const servers: GitalyServers = {};
  for (const [storage, entry] of Object.entries(parsed)) {
    const { address, token } = (entry ?? {}) as { address?: unknown; token?: unknown };
    if (typeof address !== 'string' || address.length === 0) {
      throw new InvalidArgumentError(`${GITALY_SERVERS_METADATA_KEY}: storage "${storage}" has no address`);
    }
    servers[storage] = { address, token: typeof token === 'string' ? token : '' };
  }
  return servers;
}

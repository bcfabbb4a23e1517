// The metadata a storage node gets: the client's, without the client's
// credentials, with the route's additions and the node's own v2 token.
import * as grpc from '@grpc/grpc-js';
import { AUTHORIZATION_METADATA_KEY, makeV2AuthorizationHeader, systemClockSec, type ClockSec } from '../auth/index.js';
import type { Route } from './route.js';
import { ROUTER_OWNED_METADATA } from './router-owned-metadata.js';

/**
 * A v2 token names its second, so one header per secret and second serves
 * every call in it; minting one per call would spend an HMAC each time.
 */
export class InternalTokens {
  private readonly cache = new Map<string, { second: number; header: string }>();

  constructor(private readonly clock: ClockSec = systemClockSec) {}

  header(secret: string): string {
    const second = this.clock();
    const cached = this.cache.get(secret);
    if (cached !== undefined && cached.second === second) return cached.header;
    const header = makeV2AuthorizationHeader(secret, second);
    this.cache.set(secret, { second, header });
    return header;
  }
}

export function upstreamMetadata(incoming: grpc.Metadata, route: Pick<Route, 'metadata' | 'target'>, tokens: InternalTokens): grpc.Metadata {
  const metadata = incoming.clone();
  metadata.remove(AUTHORIZATION_METADATA_KEY);
  for (const key of ROUTER_OWNED_METADATA) metadata.remove(key);
  if (route.metadata !== undefined) {
    for (const [key, value] of Object.entries(route.metadata)) metadata.set(key, value);
  }
  const secret = route.target.token;
  if (secret !== undefined && secret.length > 0) metadata.set(AUTHORIZATION_METADATA_KEY, tokens.header(secret));
  return metadata;
}

// Outgoing calls carry a fresh v2 token in their `authorization` metadata.
// A token lives ±30 s, so it is minted per call, never once per channel.
import * as grpc from '@grpc/grpc-js';
import { systemClockSec, type ClockSec } from './clock.js';
import { makeV2AuthorizationHeader } from './v2-token.js';

export const AUTHORIZATION_METADATA_KEY = 'authorization';

export function v2TokenMetadata(secret: string, nowSec: number): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set(AUTHORIZATION_METADATA_KEY, makeV2AuthorizationHeader(secret, nowSec));
  return metadata;
}

/**
 * Call credentials for secure channels (grpc-js refuses to compose call
 * credentials onto insecure channel credentials; use the interceptor there).
 */
export function v2CallCredentials(secret: string, clock: ClockSec = systemClockSec): grpc.CallCredentials {
  return grpc.credentials.createFromMetadataGenerator((_params, callback) => {
    callback(null, v2TokenMetadata(secret, clock()));
  });
}

/** A client interceptor that stamps every call; works on insecure channels too. */
export function v2TokenInterceptor(secret: string, clock: ClockSec = systemClockSec): grpc.Interceptor {
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set(AUTHORIZATION_METADATA_KEY, makeV2AuthorizationHeader(secret, clock()));
        next(metadata, listener);
      },
    });
}

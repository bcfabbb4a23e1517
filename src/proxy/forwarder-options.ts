// The forwarder's settings, with every bound explicit and defaulted.
import type * as grpc from '@grpc/grpc-js';
import type { ServerAuthOptions } from '../auth/index.js';
import type { GitalyProtocol, MethodInfo } from '../protocol/index.js';
import type { NodeLister, Router } from './route.js';
import type { LocalAnswerer } from './server-scoped.js';

const MIB = 1024 * 1024;

export interface ForwarderLimits {
  /** Calls in flight through the router; past it, RESOURCE_EXHAUSTED. */
  maxCalls: number;
  /** Calls in flight per repository; past it, RESOURCE_EXHAUSTED. */
  maxCallsPerRepository: number;
  /** Largest single message either way; grpc-js answers RESOURCE_EXHAUSTED past it. */
  maxMessageBytes: number;
}

export const DEFAULT_LIMITS: ForwarderLimits = {
  maxCalls: 4096,
  maxCallsPerRepository: 256,
  // The storage node's own default bound; anything larger it would refuse anyway.
  maxMessageBytes: 16 * MIB,
};

export interface ForwarderOptions {
  router: Router;
  /** Nodes that server-scoped calls fan out to; absent: none (empty answers). */
  nodes?: NodeLister;
  /** Checks clients' v2 tokens; absent lets every call in. */
  auth?: ServerAuthOptions;
  limits?: Partial<ForwarderLimits>;
  /** For channels to storage nodes (keepalive, TLS, ...). */
  channelOptions?: grpc.ChannelOptions;
  channelCredentials?: grpc.ChannelCredentials;
  fanOutTimeoutMs?: number;
  /** Methods of intercepted services the process answers itself (RefTransaction votes). */
  localAnswers?: LocalAnswerer;
  /** ServerInfo's server_version. */
  serverVersion?: string;
  /** Failures no client waits for: an accessor's onFinish, a router that threw a non-ProxyError. */
  onError?: (error: unknown, method: MethodInfo) => void;
  /** Defaults to proto/gitaly. */
  protocol?: GitalyProtocol;
}

export const DEFAULT_FAN_OUT_TIMEOUT_MS = 5_000;

export function resolveLimits(limits: Partial<ForwarderLimits> = {}): ForwarderLimits {
  const resolved = { ...DEFAULT_LIMITS, ...limits };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`forwarder limit ${name} must be a positive integer, got ${value}`);
  }
  return resolved;
}

// What every transport of the forwarder shares, built once from the options:
// bounds, the in-flight limiter, the first-message codec, node tokens, the
// fan-out context for server-scoped calls.
import { gitalyProtocol, UnclassifiedMethodError, type GitalyProtocol, type MethodInfo } from '../protocol/index.js';
import type { PlanContext } from './call-plan.js';
import { ChannelPool } from './channel-pool.js';
import { FirstMessageCodec } from './first-message.js';
import { DEFAULT_FAN_OUT_TIMEOUT_MS, resolveLimits, type ForwarderLimits, type ForwarderOptions } from './forwarder-options.js';
import { InFlightLimiter } from './inflight-limiter.js';
import type { ServerScopedContext } from './server-scoped.js';
import { InternalTokens } from './upstream-metadata.js';

export interface ForwarderContext extends PlanContext {
  protocol: GitalyProtocol;
  limits: ForwarderLimits;
  limiter: InFlightLimiter;
  /** grpc-js channels to the nodes (forwarding and fan-out). */
  pool: ChannelPool;
  tokens: InternalTokens;
  scoped: ServerScopedContext;
  report(error: unknown, method: MethodInfo): void;
}

export function forwarderContext(options: ForwarderOptions): ForwarderContext {
  const protocol = options.protocol ?? gitalyProtocol();
  // Startup fails, rather than a call later, when a method cannot be routed.
  if (protocol.registry.problems.length > 0) throw new UnclassifiedMethodError(protocol.registry.problems);
  const limits = resolveLimits(options.limits);
  const pool = new ChannelPool({
    maxMessageBytes: limits.maxMessageBytes,
    ...(options.channelOptions !== undefined ? { channelOptions: options.channelOptions } : {}),
    ...(options.channelCredentials !== undefined ? { credentials: options.channelCredentials } : {}),
  });
  const tokens = new InternalTokens();
  return {
    protocol,
    limits,
    limiter: new InFlightLimiter({ maxCalls: limits.maxCalls, maxCallsPerRepository: limits.maxCallsPerRepository }),
    codec: new FirstMessageCodec(protocol.root),
    router: options.router,
    pool,
    tokens,
    report: options.onError ?? (() => undefined),
    scoped: {
      pool,
      tokens,
      root: protocol.root,
      nodes: options.nodes ?? (async () => []),
      serverVersion: options.serverVersion ?? '',
      fanOutTimeoutMs: options.fanOutTimeoutMs ?? DEFAULT_FAN_OUT_TIMEOUT_MS,
      ...(options.localAnswers === undefined ? {} : { local: options.localAnswers }),
    },
  };
}

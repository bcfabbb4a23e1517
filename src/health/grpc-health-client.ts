// grpc.health.v1.Health/Check over grpc-js, one channel per storage node
// address, with the descriptors from proto/gitaly (src/protocol). Each call
// carries a fresh v2 token when the node has one (health needs none on our
// storage nodes; real Gitaly may differ), a deadline, and is cancelled when
// the prober stops waiting.
import * as grpc from '@grpc/grpc-js';
import { systemClockSec, v2TokenMetadata, type ClockSec } from '../auth/index.js';
import { requireService } from '../protocol/index.js';
import { dialTarget } from './dial-target.js';
import type { CheckOptions, HealthCheckClient } from './health-check-client.js';
import { probeFailure, SERVING, type ProbeOutcome } from './probe-outcome.js';
import type { ProbeTarget } from './storage-ref.js';

export const HEALTH_SERVICE = 'grpc.health.v1.Health';
/** A health answer is a few bytes; anything bigger is not one. */
const MAX_RESPONSE_BYTES = 64 * 1024;
/** grpc-js starts reconnecting after this, then backs off up to maxReconnectBackoffMs. */
const INITIAL_RECONNECT_BACKOFF_MS = 100;

export interface GrpcHealthClientOptions {
  /**
   * Cap on grpc-js's reconnect backoff (its default grows to 120 s). Set it
   * to the monitor interval, so a node that comes back is connected within
   * about one round instead of minutes later.
   */
  readonly maxReconnectBackoffMs: number;
  readonly clock?: ClockSec;
}

interface HealthResponse {
  readonly status?: string;
}

export class GrpcHealthClient implements HealthCheckClient {
  private readonly method = requireService(HEALTH_SERVICE).Check as grpc.MethodDefinition<object, HealthResponse>;
  private readonly channels = new Map<string, grpc.Client>();
  private readonly clock: ClockSec;

  constructor(private readonly options: GrpcHealthClientOptions) {
    this.clock = options.clock ?? systemClockSec;
  }

  check(target: ProbeTarget, options: CheckOptions): Promise<ProbeOutcome> {
    if (options.signal.aborted) return Promise.resolve(probeFailure('error', 'cancelled before the call'));
    const metadata = target.token.length > 0 ? v2TokenMetadata(target.token, this.clock()) : new grpc.Metadata();
    return new Promise((resolve) => {
      const call = this.channelFor(target.address).makeUnaryRequest(
        this.method.path,
        this.method.requestSerialize,
        this.method.responseDeserialize,
        { service: '' },
        metadata,
        { deadline: Date.now() + options.timeoutMs },
        (error, response) => {
          options.signal.removeEventListener('abort', cancel);
          resolve(outcomeOf(error, response));
        },
      );
      const cancel = (): void => call.cancel();
      options.signal.addEventListener('abort', cancel, { once: true });
    });
  }

  close(): void {
    for (const channel of this.channels.values()) channel.close();
    this.channels.clear();
  }

  private channelFor(address: string): grpc.Client {
    const existing = this.channels.get(address);
    if (existing !== undefined) return existing;
    const { target, tls } = dialTarget(address);
    const credentials = tls ? grpc.credentials.createSsl() : grpc.credentials.createInsecure();
    const channel = new grpc.Client(target, credentials, this.channelOptions());
    this.channels.set(address, channel);
    return channel;
  }

  private channelOptions(): grpc.ClientOptions {
    const maxBackoffMs = Math.max(this.options.maxReconnectBackoffMs, INITIAL_RECONNECT_BACKOFF_MS);
    return {
      'grpc.initial_reconnect_backoff_ms': INITIAL_RECONNECT_BACKOFF_MS,
      'grpc.max_reconnect_backoff_ms': maxBackoffMs,
      'grpc.max_receive_message_length': MAX_RESPONSE_BYTES,
      // A probe is one attempt; the next round is the retry.
      'grpc.enable_retries': 0,
    };
  }
}

function outcomeOf(error: grpc.ServiceError | null, response: HealthResponse | undefined): ProbeOutcome {
  if (error !== null) return probeFailure(reasonOf(error.code), `${grpc.status[error.code] ?? error.code}: ${error.details}`);
  if (response?.status === 'SERVING') return SERVING;
  return probeFailure('not-serving', `status ${response?.status ?? 'missing'}`);
}

function reasonOf(code: grpc.status): 'timeout' | 'unavailable' | 'error' {
  if (code === grpc.status.DEADLINE_EXCEEDED) return 'timeout';
  if (code === grpc.status.UNAVAILABLE) return 'unavailable';
  return 'error';
}

// A HealthProber wired from the router's configuration: every node of every
// virtual storage, the [failover] settings, and the gRPC client.
import type { PraefectConfig } from '../config/index.js';
import { GrpcHealthClient } from './grpc-health-client.js';
import type { HealthCheckClient } from './health-check-client.js';
import { HealthProber } from './health-prober.js';
import { PROBER_LIMITS, type HealthProberOptions } from './prober-options.js';
import type { ProbeTarget } from './storage-ref.js';

export function probeTargets(config: PraefectConfig): ProbeTarget[] {
  return config.virtualStorages.flatMap((vs) =>
    vs.nodes.map((node) => ({ virtualStorage: vs.name, storage: node.storage, address: node.address, token: node.token })),
  );
}

export type ProberHooks = Pick<HealthProberOptions, 'scheduler' | 'onChange' | 'onProbe' | 'logger'> & {
  /** Defaults to a GrpcHealthClient. */
  readonly client?: HealthCheckClient;
};

export function healthProberFromConfig(config: PraefectConfig, hooks: ProberHooks = {}): HealthProber {
  const { failover } = config;
  return new HealthProber({
    ...hooks,
    targets: probeTargets(config),
    client: hooks.client ?? new GrpcHealthClient({ maxReconnectBackoffMs: failover.monitorIntervalMs }),
    monitorIntervalMs: failover.monitorIntervalMs,
    probeTimeoutMs: failover.probeTimeoutMs,
    consecutiveProbes: failover.consecutiveProbes,
    // DESIGN §12: failover within 3 probe intervals; with rounds alone 3 failures take 3 of them.
    confirmFailureAfterMs: Math.max(PROBER_LIMITS.minIntervalMs, Math.floor(failover.monitorIntervalMs / 4)),
    errorThresholds: failover.errorThresholds,
  });
}

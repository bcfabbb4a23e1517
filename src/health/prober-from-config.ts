// A HealthProber wired from the router's configuration: every node of every
// virtual storage, the [failover] settings, and the gRPC client.
import type { PraefectConfig } from '../config/index.js';
import { GrpcHealthClient } from './grpc-health-client.js';
import type { HealthCheckClient } from './health-check-client.js';
import { HealthProber } from './health-prober.js';
import type { HealthProberOptions } from './prober-options.js';
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
    errorThresholds: failover.errorThresholds,
  });
}

// The whole file. Every table is strict: an unknown key is refused, so a typo
// never silently falls back to a default. Checks that span fields are in
// cross-checks.ts, because zod skips refinements once any field is invalid.
import { z } from 'zod';
import { databaseSchema } from './database-schema.js';
import { BOUNDS, DEFAULTS } from './defaults.js';
import { buckets, duration, hostPort, secret } from './fields.js';
import { failoverSchema } from './failover-schema.js';
import { raftSchema } from './raft-schema.js';
import { reconciliationSchema } from './reconciliation-schema.js';
import { replicationSchema } from './replication-schema.js';
import { routingSchema } from './routing-schema.js';
import { transactionsSchema } from './transactions-schema.js';
import { virtualStorageSchema } from './virtual-storage-schema.js';

const filePath = z.string().min(1, 'must not be empty').max(BOUNDS.pathLength.max);

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export const configSchema = z.strictObject({
  listen_addr: hostPort.optional(),
  tls_listen_addr: hostPort.optional(),
  prometheus_listen_addr: hostPort.optional(),
  graceful_stop_timeout: duration({
    minMs: BOUNDS.gracefulStopTimeoutMs.min,
    maxMs: BOUNDS.gracefulStopTimeoutMs.max,
  }).default(DEFAULTS.gracefulStopTimeoutMs),
  tls: z.strictObject({ certificate_path: filePath, key_path: filePath }).optional(),
  auth: z
    .strictObject({
      // Clients must present a v2 token signed with this; empty turns authentication off.
      token: secret.default(''),
      // Count failed authentications but let the calls through (upstream's migration aid).
      transitioning: z.boolean().default(false),
    })
    .prefault({}),
  logging: z.strictObject({ level: z.enum(LOG_LEVELS).default(DEFAULTS.logLevel) }).prefault({}),
  prometheus: z
    .strictObject({ grpc_latency_buckets: buckets.default([...DEFAULTS.grpcLatencyBuckets]) })
    .prefault({}),
  virtual_storage: z
    .array(virtualStorageSchema)
    .min(1, 'at least one [[virtual_storage]] is required')
    .max(BOUNDS.virtualStorages.max),
  failover: failoverSchema.prefault({}),
  replication: replicationSchema.prefault({}),
  reconciliation: reconciliationSchema.prefault({}),
  database: databaseSchema.prefault({}),
  raft: raftSchema,
  routing: routingSchema.prefault({}),
  transactions: transactionsSchema.prefault({}),
});

/** The validated file, still in its own key names; see praefect-config.ts for the shape code uses. */
export type ConfigFile = z.output<typeof configSchema>;

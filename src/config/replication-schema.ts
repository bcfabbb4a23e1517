// [replication]: upstream's batch_size and parallel_storage_processing_workers,
// plus the queue's retry policy.
import { z } from 'zod';
import { BOUNDS, DEFAULTS } from './defaults.js';
import { count, duration } from './fields.js';

const b = BOUNDS.replication;
const d = DEFAULTS.replication;
const backoff = { minMs: b.retryBackoffMs.min, maxMs: b.retryBackoffMs.max };

export const replicationSchema = z.strictObject({
  batch_size: count(b.batchSize.min, b.batchSize.max).default(d.batchSize),
  parallel_storage_processing_workers: count(
    b.parallelStorageProcessingWorkers.min,
    b.parallelStorageProcessingWorkers.max,
  ).default(d.parallelStorageProcessingWorkers),
  // Tries per job, the first included; then the job is dead.
  max_attempts: count(b.maxAttempts.min, b.maxAttempts.max).default(d.maxAttempts),
  retry_backoff_base: duration(backoff).default(d.retryBackoffBaseMs),
  retry_backoff_max: duration(backoff).default(d.retryBackoffMaxMs),
});

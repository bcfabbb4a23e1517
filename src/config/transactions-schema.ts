// [transactions]: strong consistency (DESIGN §10). On by default; off means
// upstream's older async replication, where a write goes to the primary alone.
import { z } from 'zod';
import { BOUNDS, DEFAULTS } from './defaults.js';
import { duration, hostPort } from './fields.js';

const d = DEFAULTS.transactions;
const b = BOUNDS.transactions;

export const transactionsSchema = z.strictObject({
  enabled: z.boolean().default(d.enabled),
  // A vote not decided within this aborts its transaction; the client gets a retryable error.
  vote_timeout: duration({ minMs: b.voteTimeoutMs.min, maxMs: b.voteTimeoutMs.max }).default(d.voteTimeoutMs),
  // How long the secondaries of a write may run after the primary ended before they are cut off (and replicated instead).
  secondary_timeout: duration({ minMs: b.secondaryTimeoutMs.min, maxMs: b.secondaryTimeoutMs.max }).default(d.secondaryTimeoutMs),
  // Where storage nodes reach this router to vote; default: listen_addr as bound.
  vote_address: hostPort.optional(),
});

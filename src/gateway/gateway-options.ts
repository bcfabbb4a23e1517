// The gateway's settings, with every bound explicit and checked.
import { z } from 'zod';

const MiB = 1024 * 1024;

export const gatewayOptionsSchema = z.object({
  /** host:port of the gRPC SmartHTTPService target (storage node or router). */
  target: z.string().regex(/^[^\s/]+:\d{1,5}$/, 'expected host:port'),
  /** The (virtual) storage name put into every Repository message. */
  storage: z.string().min(1).max(255),
  /** The v2 token secret for the target; absent sends no token. */
  token: z.string().min(1).optional(),
  maxConcurrentRequests: z.number().int().min(1).max(10_000).default(64),
  /** Negotiation bodies: wants and haves, never a packfile. */
  maxUploadPackRequestBytes: z.number().int().min(1024).default(64 * MiB),
  /** Push bodies carry the packfile; streamed, but still bounded. */
  maxReceivePackRequestBytes: z.number().int().min(1024).default(4096 * MiB),
  /** A connection with no traffic either way for this long is closed. */
  idleTimeoutMs: z.number().int().min(100).max(3_600_000).default(120_000),
  headersTimeoutMs: z.number().int().min(100).max(600_000).default(30_000),
  /** How long close() waits for requests in flight before cutting them off. */
  shutdownGraceMs: z.number().int().min(0).max(600_000).default(10_000),
  glId: z.string().max(255).default('git-gateway'),
  glUsername: z.string().max(255).default('git-gateway'),
  glRepository: z.string().max(255).default(''),
});

export type GatewayOptionsInput = z.input<typeof gatewayOptionsSchema>;
export type GatewayOptions = z.output<typeof gatewayOptionsSchema>;

/** Parses options, naming the offending key in the error. */
export function parseGatewayOptions(input: GatewayOptionsInput): GatewayOptions {
  const result = gatewayOptionsSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  throw new Error(`invalid gateway options: ${problems.join('; ')}`);
}

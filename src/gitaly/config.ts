// The storage node's TOML configuration. Key names follow Gitaly's where the
// concept is the same (listen_addr, [[storage]], [auth] token,
// prometheus_listen_addr). Every bound has an explicit default here.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';

const MIB = 1024 * 1024;

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):[0-9]{1,5}$/, 'expected host:port, e.g. 127.0.0.1:8075');

const storageName = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, "_", "." and "-" only');

const storageSchema = z.strictObject({
  name: storageName,
  path: z.string().min(1).refine((p) => path.isAbsolute(p), 'must be an absolute path'),
});

const positiveInt = z.number().int().positive();

const configSchema = z
  .strictObject({
    listen_addr: hostPort,
    // A second listener with TLS; needs [tls].
    tls_listen_addr: hostPort.optional(),
    prometheus_listen_addr: hostPort.optional(),
    tls: z
      .strictObject({
        certificate_path: z.string().min(1),
        key_path: z.string().min(1),
      })
      .optional(),
    storage: z.array(storageSchema).min(1, 'at least one [[storage]] is required'),
    auth: z
      .strictObject({
        token: z.string().default(''),
        // Count failed authentications but let the calls through.
        transitioning: z.boolean().default(false),
      })
      .default({ token: '', transitioning: false }),
    git: z
      .strictObject({
        bin_path: z.string().min(1).default('git'),
        // Git processes running at once; more wait in a queue.
        max_concurrent: positiveInt.default(32),
        // Waiting processes beyond this are refused with RESOURCE_EXHAUSTED.
        max_queued: z.number().int().nonnegative().default(256),
        queue_timeout_ms: positiveInt.default(30_000),
        // Kills a git process that runs longer (clones of large repositories included).
        command_timeout_ms: positiveInt.default(30 * 60_000),
        // Output a buffered (non-streaming) git command may produce.
        max_buffered_output_bytes: positiveInt.default(256 * MIB),
        default_branch: z.string().min(1).default('main'),
      })
      .default({
        bin_path: 'git',
        max_concurrent: 32,
        max_queued: 256,
        queue_timeout_ms: 30_000,
        command_timeout_ms: 30 * 60_000,
        max_buffered_output_bytes: 256 * MIB,
        default_branch: 'main',
      }),
    grpc: z
      .strictObject({
        max_receive_message_bytes: positiveInt.default(16 * MIB),
        max_send_message_bytes: positiveInt.default(16 * MIB),
        // Size of the data chunks streamed to clients.
        stream_chunk_bytes: positiveInt.max(4 * MIB).default(128 * 1024),
      })
      .default({ max_receive_message_bytes: 16 * MIB, max_send_message_bytes: 16 * MIB, stream_chunk_bytes: 128 * 1024 }),
    health: z
      .strictObject({
        // A storage with less free space than this reports NOT_SERVING.
        min_free_bytes: z.number().int().nonnegative().default(16 * MIB),
      })
      .default({ min_free_bytes: 16 * MIB }),
    // The write log for fault tests (write-log.ts): absent, nothing is logged.
    audit: z
      .strictObject({
        write_log: z.string().min(1).refine((p) => path.isAbsolute(p), 'must be an absolute path'),
        // Past this size the log rotates to <write_log>.1 (one rotated file is kept).
        write_log_max_bytes: z.number().int().min(4096).default(64 * MIB),
      })
      .optional(),
    logging: z
      .strictObject({
        level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
      })
      .default({ level: 'info' }),
  })
  .superRefine((config, ctx) => {
    if (config.tls_listen_addr !== undefined && config.tls === undefined) {
      ctx.addIssue({ code: 'custom', path: ['tls'], message: 'tls_listen_addr needs [tls] certificate_path and key_path' });
    }
    const seen = new Set<string>();
    config.storage.forEach((storage, index) => {
      if (seen.has(storage.name)) {
        ctx.addIssue({ code: 'custom', path: ['storage', index, 'name'], message: `duplicate storage name "${storage.name}"` });
      }
      seen.add(storage.name);
    });
  });

export type GitalyConfig = z.infer<typeof configSchema>;
export type StorageConfig = GitalyConfig['storage'][number];

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Validates a parsed configuration; the error names each bad key and why. */
export function parseConfig(raw: unknown): GitalyConfig {
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  const lines = result.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => `${formatKey([...issue.path, key])}: unknown key`)
      : [`${formatKey(issue.path)}: ${issue.message}`],
  );
  throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
}

export function parseConfigToml(text: string): GitalyConfig {
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (error) {
    throw new ConfigError(`invalid TOML: ${error instanceof Error ? error.message : String(error)}`);
  }
  return parseConfig(raw);
}

export function loadConfigFile(file: string): GitalyConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return parseConfigToml(text);
}

function formatKey(keyPath: ReadonlyArray<PropertyKey>): string {
  if (keyPath.length === 0) return '(top level)';
  return keyPath.map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`)).join('');
}

// Field schemas shared by the sections. Messages never quote a value unless
// the field can never hold a secret (durations, names, addresses do not).
import { z } from 'zod';
import { BOUNDS } from './defaults.js';
import { formatDurationMs, parseDurationMs } from './duration.js';

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):([0-9]{1,5})$/;
const MAX_PORT = 65_535;

function validHostPort(text: string): boolean {
  const match = HOST_PORT.exec(text);
  return match !== null && Number(match[2]) <= MAX_PORT;
}

/** A listen or dial address, host:port; port 0 lets the system choose (tests). */
export const hostPort = z
  .string()
  .max(BOUNDS.nameLength.max)
  .refine(validHostPort, 'expected host:port with a port up to 65535, e.g. 127.0.0.1:2305');

/** A storage node as upstream writes it: tcp://host:port, tls://host:port, unix:/path, or host:port. */
export const nodeAddress = z
  .string()
  .max(BOUNDS.pathLength.max)
  .refine(validNodeAddress, 'expected tcp://host:port, tls://host:port, unix:/absolute/path or host:port');

function validNodeAddress(text: string): boolean {
  if (text.startsWith('tcp://')) return validHostPort(text.slice('tcp://'.length));
  if (text.startsWith('tls://')) return validHostPort(text.slice('tls://'.length));
  if (text.startsWith('unix://')) return text.slice('unix://'.length).startsWith('/');
  if (text.startsWith('unix:')) return text.slice('unix:'.length).startsWith('/');
  return validHostPort(text);
}

/** Names that end up in logs, metrics labels and replica paths. */
export const name = z
  .string()
  .min(1, 'must not be empty')
  .max(BOUNDS.nameLength.max)
  .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, "_", "." and "-" only');

/** A token or password. Its messages never include the value. */
export const secret = z.string().max(BOUNDS.secretLength.max);

export const absolutePath = z
  .string()
  .min(1, 'must not be empty')
  .max(BOUNDS.pathLength.max)
  .refine((p) => p.startsWith('/'), 'must be an absolute path');

export function count(min: number, max: number): z.ZodNumber {
  return z.number().int().min(min).max(max);
}

export interface DurationBounds {
  readonly minMs: number;
  readonly maxMs: number;
  /** "0" is accepted below minMs, meaning "off" (e.g. reconciliation.scheduling_interval). */
  readonly zeroMeansOff?: boolean;
}

/** A duration string ("1s", "250ms") in, whole milliseconds out. */
export function duration(bounds: DurationBounds) {
  return z.string().transform((text, ctx) => {
    const parsed = parseDurationMs(text);
    const problem = parsed.ok ? boundProblem(parsed.ms, bounds) : `${parsed.reason} (got ${quote(text)})`;
    if (problem === undefined && parsed.ok) return parsed.ms;
    ctx.addIssue({ code: 'custom', message: problem ?? 'invalid duration' });
    return z.NEVER;
  });
}

function boundProblem(ms: number, bounds: DurationBounds): string | undefined {
  if (ms === 0 && bounds.zeroMeansOff === true) return undefined;
  if (ms < bounds.minMs) return `must be at least ${formatDurationMs(bounds.minMs)}${bounds.zeroMeansOff === true ? ' (or "0" for off)' : ''}`;
  if (ms > bounds.maxMs) return `must be at most ${formatDurationMs(bounds.maxMs)}`;
  return undefined;
}

function quote(text: string): string {
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return JSON.stringify(shown);
}

/** Histogram buckets: finite, positive, strictly increasing. */
export const buckets = z
  .array(z.number().positive())
  .min(1)
  .max(BOUNDS.histogramBuckets.maxCount)
  .refine((list) => list.every((b, i) => i === 0 || b > (list[i - 1] ?? 0)), 'must be strictly increasing');

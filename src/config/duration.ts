// Durations as upstream Praefect writes them (Go's time.ParseDuration):
// "1s", "250ms", "1m30s", "1.5h", "0". Parsed exactly in nanoseconds with
// BigInt, so "1.1s" is 1100 ms and not 1100.0000000000002.

const UNIT_NS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5 micro sign, as Go accepts
  'μs': 1_000n, // U+03BC Greek mu, likewise
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const NS_PER_MS = 1_000_000n;
/** Longer text is refused before any parsing; no sane duration needs more. */
export const MAX_DURATION_TEXT_LENGTH = 64;
const PART = /^([0-9]*)(?:\.([0-9]*))?(ns|us|µs|μs|ms|s|m|h)/;

export type DurationParse = { ok: true; ms: number } | { ok: false; reason: string };

/** Whole milliseconds, or why the text is not a duration this project accepts. */
export function parseDurationMs(text: string): DurationParse {
  if (text.length === 0) return fail('empty duration');
  if (text.length > MAX_DURATION_TEXT_LENGTH) return fail(`longer than ${MAX_DURATION_TEXT_LENGTH} characters`);
  if (text === '0') return { ok: true, ms: 0 };
  if (text.startsWith('-')) return fail('must not be negative');
  const ns = sumParts(text.startsWith('+') ? text.slice(1) : text);
  if (typeof ns === 'string') return fail(ns);
  if (ns % NS_PER_MS !== 0n) return fail('must be a whole number of milliseconds');
  const ms = ns / NS_PER_MS;
  if (ms > BigInt(Number.MAX_SAFE_INTEGER)) return fail('too long');
  return { ok: true, ms: Number(ms) };
}

// Nanoseconds, or a reason string.
function sumParts(text: string): bigint | string {
  let rest = text;
  let total = 0n;
  while (rest.length > 0) {
    const match = PART.exec(rest);
    if (match === null) return 'expected a number followed by a unit (ns, us, ms, s, m, h), e.g. "1s" or "250ms"';
    const [whole, intDigits = '', fracDigits = '', unit = ''] = match;
    if (intDigits.length === 0 && fracDigits.length === 0) return 'a unit needs a number before it';
    const part = partNs(intDigits, fracDigits, UNIT_NS[unit] ?? 0n);
    if (part === undefined) return 'finer than a nanosecond';
    total += part;
    rest = rest.slice(whole.length);
  }
  return total;
}

function partNs(intDigits: string, fracDigits: string, unitNs: bigint): bigint | undefined {
  const scale = 10n ** BigInt(fracDigits.length);
  const fracNs = BigInt(fracDigits.length === 0 ? '0' : fracDigits) * unitNs;
  if (fracNs % scale !== 0n) return undefined;
  return BigInt(intDigits.length === 0 ? '0' : intDigits) * unitNs + fracNs / scale;
}

function fail(reason: string): DurationParse {
  return { ok: false, reason };
}

/** The shortest exact spelling in one unit: 3600000 → "1h", 1500 → "1500ms", 0 → "0s". */
export function formatDurationMs(ms: number): string {
  if (ms === 0) return '0s';
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}

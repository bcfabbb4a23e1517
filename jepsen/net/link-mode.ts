// What happens to the bytes travelling one direction of a link.
//
// - pass: forwarded as they come.
// - blackhole: held, never delivered while the mode lasts; like packets
//   dropped by a partition, peers time out. TCP would retransmit them after
//   the partition heals, so held bytes are delivered in order on heal.
// - delay: each chunk is delivered no earlier than delayMs after it arrived,
//   in arrival order.
// - reset: every connection carrying this direction is reset (RST), and so
//   is every new one, for as long as the mode lasts.
export type LinkMode =
  | { readonly kind: 'pass' }
  | { readonly kind: 'blackhole' }
  | { readonly kind: 'delay'; readonly delayMs: number }
  | { readonly kind: 'reset' };

export const PASS: LinkMode = Object.freeze({ kind: 'pass' });
export const BLACKHOLE: LinkMode = Object.freeze({ kind: 'blackhole' });
export const RESET: LinkMode = Object.freeze({ kind: 'reset' });
export function delayMode(delayMs: number): LinkMode {
  if (!Number.isFinite(delayMs) || delayMs < 0) throw new RangeError(`delayMs must be a finite number >= 0, got ${delayMs}`);
  return { kind: 'delay', delayMs };
}

export function sameMode(a: LinkMode, b: LinkMode): boolean {
  return a.kind === b.kind && (a.kind !== 'delay' || (b.kind === 'delay' && a.delayMs === b.delayMs));
}

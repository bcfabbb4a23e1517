// The face both backends (proxies, network namespaces) show the nemesis:
// directed cuts added, cut sets read back, everything healed.
import type { DirectedLink } from './directed-link.js';

export interface PartitionBackend {
  readonly kind: 'proxy' | 'netns';
  /** Registered node names, in registration order. */
  nodes(): string[];
  /** Add these directed cuts to the current ones. */
  cut(links: readonly DirectedLink[]): Promise<void>;
  /** The directed links cut right now, canonical order. */
  cutLinks(): DirectedLink[];
  /** Remove every fault this backend applied. */
  heal(): Promise<void>;
  close(): Promise<void>;
}

/** Which directed links a delay or reset applies to. */
export type LinkSelector = (link: DirectedLink) => boolean;

export function linksBetween(groupA: readonly string[], groupB: readonly string[]): LinkSelector {
  const a = new Set(groupA);
  const b = new Set(groupB);
  return (link) => (a.has(link.from) && b.has(link.to)) || (b.has(link.from) && a.has(link.to));
}

export function linksOf(node: string): LinkSelector {
  return (link) => link.from === node || link.to === node;
}

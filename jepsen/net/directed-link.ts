// A directed link: the bytes `from` sends to `to`, whatever connection carries them.

export interface DirectedLink {
  readonly from: string;
  readonly to: string;
}

/** A stable key for sets and maps; node names may hold any character but NUL. */
export function linkKey(link: DirectedLink): string {
  return `${link.from}\u0000${link.to}`;
}

export function parseLinkKey(key: string): DirectedLink {
  const [from = '', to = ''] = key.split('\u0000');
  return { from, to };
}

/** Sorted, deduplicated list: a canonical form for comparing cut sets. */
export function canonicalLinks(links: Iterable<DirectedLink>): DirectedLink[] {
  const keys = new Set<string>();
  for (const link of links) keys.add(linkKey(link));
  return [...keys].sort().map(parseLinkKey);
}

export function formatLink(link: DirectedLink): string {
  return `${link.from}->${link.to}`;
}

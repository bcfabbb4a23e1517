// Partition shapes as pure functions from node names to the set of cut
// directed links. A cut link A->B drops the bytes A sends to B on every
// connection between them. Nodes a shape does not mention are not cut.
import { canonicalLinks, type DirectedLink } from './directed-link.js';
import { InvalidFaultError } from './errors.js';

function both(a: string, b: string): DirectedLink[] {
  return [{ from: a, to: b }, { from: b, to: a }];
}

/** Nodes in different groups cannot talk, in either direction. */
export function groupsCuts(groups: readonly (readonly string[])[]): DirectedLink[] {
  const groupOf = new Map<string, number>();
  groups.forEach((group, index) => {
    if (group.length === 0) throw new InvalidFaultError(`partition group ${index} is empty`);
    for (const node of group) {
      if (groupOf.has(node)) throw new InvalidFaultError(`node "${node}" is in two partition groups`);
      groupOf.set(node, index);
    }
  });
  const cuts: DirectedLink[] = [];
  for (const [a, ga] of groupOf) {
    for (const [b, gb] of groupOf) if (ga !== gb) cuts.push({ from: a, to: b });
  }
  return canonicalLinks(cuts);
}

/** `node` can neither reach nor be reached by any of `others`. */
export function isolateCuts(node: string, others: readonly string[]): DirectedLink[] {
  return canonicalLinks(others.filter((o) => o !== node).flatMap((o) => both(node, o)));
}

/** Jepsen's halves: the first floor(n/2) nodes against the rest (the majority). */
export function halves(nodes: readonly string[]): [string[], string[]] {
  if (nodes.length < 2) throw new InvalidFaultError(`halves needs at least 2 nodes, got ${nodes.length}`);
  const cut = Math.floor(nodes.length / 2);
  return [nodes.slice(0, cut), nodes.slice(cut)];
}

export function halvesCuts(nodes: readonly string[]): DirectedLink[] {
  return groupsCuts(halves(nodes));
}

export interface BridgeShape {
  readonly halfA: string[];
  readonly halfB: string[];
  /** The one node both halves can still reach. */
  readonly bridgeNode: string;
}

/** Jepsen's bridge: two halves that can talk only through the middle node. */
export function bridgeShape(nodes: readonly string[]): BridgeShape {
  if (nodes.length < 3) throw new InvalidFaultError(`bridge needs at least 3 nodes, got ${nodes.length}`);
  const middle = Math.floor(nodes.length / 2);
  return { halfA: nodes.slice(0, middle), halfB: nodes.slice(middle + 1), bridgeNode: nodes[middle] as string };
}

/** Every link between the halves is cut, both ways; the bridge node is cut from nobody. */
export function bridgeCuts(halfA: readonly string[], halfB: readonly string[], bridgeNode: string): DirectedLink[] {
  if (halfA.includes(bridgeNode) || halfB.includes(bridgeNode)) {
    throw new InvalidFaultError(`bridge node "${bridgeNode}" must not be in either half`);
  }
  return groupsCuts([halfA, halfB]);
}

/**
 * Jepsen's majorities ring: nodes in ring order; each node hears only a
 * window of a majority (floor(n/2)+1 nodes, itself included) around its place,
 * so every node sees a majority and no two see the same one. The cut is
 * inbound: node X not hearing Y is the link Y->X. For an odd majority the
 * window is centred and the cuts are symmetric; for an even one (n = 3, 6, 7, 10, 11, ...)
 * it leans forward and some cuts are one-way.
 */
export function majoritiesRingCuts(ring: readonly string[]): DirectedLink[] {
  const n = ring.length;
  if (n < 3) throw new InvalidFaultError(`majorities ring needs at least 3 nodes, got ${n}`);
  const majority = Math.floor(n / 2) + 1;
  const behind = Math.floor((majority - 1) / 2);
  const cuts: DirectedLink[] = [];
  ring.forEach((listener, i) => {
    const heard = new Set<string>();
    for (let k = -behind; k < majority - behind; k++) heard.add(ring[(((i + k) % n) + n) % n] as string);
    for (const speaker of ring) if (!heard.has(speaker)) cuts.push({ from: speaker, to: listener });
  });
  return canonicalLinks(cuts);
}

/** Only `from`'s bytes toward `to` are dropped; `to` still reaches `from`. */
export function oneWayCuts(from: string, to: string): DirectedLink[] {
  if (from === to) throw new InvalidFaultError(`one-way cut needs two different nodes, got "${from}" twice`);
  return [{ from, to }];
}

// The proxy backend: a registry of nodes and the FaultProxy for each ordered
// pair that talks. Node X is configured to reach Y at addressFor(X, Y), the
// proxy that carries the connections X opens to Y. A fault on the directed
// link X->Y governs X's bytes toward Y on every connection between them: the
// upstream of proxy(X->Y) and the downstream of proxy(Y->X).
import { canonicalLinks, linkKey, parseLinkKey, type DirectedLink } from './directed-link.js';
import { DuplicateNodeError, InvalidFaultError, NotListeningError, ProxyStateError, UnknownNodeError } from './errors.js';
import { FaultProxy, type FaultProxyOptions, type FaultProxyStats, type HostPort } from './fault-proxy.js';
import { BLACKHOLE, PASS, RESET, delayMode, sameMode, type LinkMode } from './link-mode.js';
import type { LinkSelector, PartitionBackend } from './partition-backend.js';
import { bridgeCuts, groupsCuts, isolateCuts, majoritiesRingCuts, oneWayCuts } from './partition-shapes.js';

export type ProxyLimits = Pick<FaultProxyOptions, 'maxConnections' | 'maxBufferedBytes' | 'overflow'>;

export interface NetworkOptions {
  /** Where proxies listen. Default 127.0.0.1. */
  readonly listenHost?: string;
  readonly proxyLimits?: ProxyLimits;
}

export function parseHostPort(address: string | HostPort): HostPort {
  if (typeof address !== 'string') return address;
  const colon = address.lastIndexOf(':');
  const port = Number(address.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new InvalidFaultError(`"${address}" is not host:port`);
  }
  return { host: address.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port };
}

export function formatHostPort(address: HostPort): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

export class Network implements PartitionBackend {
  readonly kind = 'proxy' as const;
  private readonly realAddresses = new Map<string, HostPort | null>();
  private readonly proxies = new Map<string, { link: DirectedLink; proxy: FaultProxy; ready: Promise<HostPort> }>();
  private readonly cuts = new Set<string>();
  private readonly delays = new Map<string, number>();
  private readonly resets = new Set<string>();
  private closed = false;

  constructor(private readonly options: NetworkOptions = {}) {}

  /** A node; without a real address it can only open connections (a client). */
  addNode(name: string, realAddress?: string | HostPort): void {
    if (this.realAddresses.has(name)) throw new DuplicateNodeError(name);
    if (name.includes('\u0000')) throw new InvalidFaultError('node names may not contain NUL');
    this.realAddresses.set(name, realAddress === undefined ? null : parseHostPort(realAddress));
  }

  nodes(): string[] {
    return [...this.realAddresses.keys()];
  }

  /** The address `from` must dial to reach `to`; starts the proxy on first use. */
  async addressFor(from: string, to: string): Promise<HostPort> {
    this.requireNode(from);
    const target = this.requireNode(to);
    if (!target) throw new NotListeningError(to);
    if (from === to) throw new InvalidFaultError(`a node reaches itself directly, not through a proxy ("${from}")`);
    if (this.closed) throw new ProxyStateError('the network is closed');
    const key = linkKey({ from, to });
    let entry = this.proxies.get(key);
    if (!entry) {
      const proxy = new FaultProxy({
        ...this.options.proxyLimits,
        name: `${from}->${to}`,
        target,
        listenHost: this.options.listenHost ?? '127.0.0.1',
      });
      entry = { link: { from, to }, proxy, ready: proxy.start() };
      this.proxies.set(key, entry);
      this.applyTo(entry.link, proxy);
    }
    return entry.ready;
  }

  /** Where the node really listens (for itself, and for anything not under test). */
  realAddressOf(name: string): HostPort {
    const address = this.requireNode(name);
    if (!address) throw new NotListeningError(name);
    return address;
  }

  /** `host:port` form of addressFor, for config files. */
  async endpointFor(from: string, to: string): Promise<string> {
    return formatHostPort(await this.addressFor(from, to));
  }

  proxyFor(from: string, to: string): FaultProxy | undefined {
    return this.proxies.get(linkKey({ from, to }))?.proxy;
  }

  /** What the bytes `link.from` sends to `link.to` undergo now. */
  modeOf(link: DirectedLink): LinkMode {
    const key = linkKey(link);
    if (this.resets.has(key)) return RESET;
    if (this.cuts.has(key)) return BLACKHOLE;
    const delayMs = this.delays.get(key);
    return delayMs === undefined ? PASS : delayMode(delayMs);
  }

  async cut(links: readonly DirectedLink[]): Promise<void> {
    for (const link of links) {
      this.requireNode(link.from);
      this.requireNode(link.to);
    }
    for (const link of links) this.cuts.add(linkKey(link));
    this.applyAll();
  }

  cutLinks(): DirectedLink[] {
    return canonicalLinks([...this.cuts].map(parseLinkKey));
  }

  /** Nodes in different groups cannot talk; nodes in no group are untouched. */
  async partition(groups: readonly (readonly string[])[]): Promise<void> {
    await this.cut(groupsCuts(groups));
  }

  async isolate(name: string): Promise<void> {
    this.requireNode(name);
    await this.cut(isolateCuts(name, this.nodes()));
  }

  async oneWay(from: string, to: string): Promise<void> {
    await this.cut(oneWayCuts(from, to));
  }

  async bridge(halfA: readonly string[], halfB: readonly string[], bridgeNode: string): Promise<void> {
    await this.cut(bridgeCuts(halfA, halfB, bridgeNode));
  }

  async majoritiesRing(ring: readonly string[]): Promise<void> {
    await this.cut(majoritiesRingCuts(ring));
  }

  /** Delay every selected link (all links between registered nodes by default) by delayMs per chunk. */
  async delay(delayMs: number, selector?: LinkSelector): Promise<void> {
    delayMode(delayMs);
    for (const link of this.selectLinks(selector)) this.delays.set(linkKey(link), delayMs);
    this.applyAll();
  }

  /** Reset every connection carrying a selected link, and every new one, until heal. */
  async reset(selector?: LinkSelector): Promise<void> {
    for (const link of this.selectLinks(selector)) this.resets.add(linkKey(link));
    this.applyAll();
  }

  /** Reset the connections carrying selected links now; new connections pass (a one-shot, unlike reset). */
  async resetConnections(selector?: LinkSelector): Promise<void> {
    const added = this.selectLinks(selector).map(linkKey).filter((key) => !this.resets.has(key));
    for (const key of added) this.resets.add(key);
    this.applyAll();
    for (const key of added) this.resets.delete(key);
    this.applyAll();
  }

  async heal(): Promise<void> {
    this.cuts.clear();
    this.delays.clear();
    this.resets.clear();
    this.applyAll();
  }

  /** Per proxy, keyed `from->to`. */
  stats(): Record<string, FaultProxyStats> {
    const out: Record<string, FaultProxyStats> = {};
    for (const { proxy } of this.proxies.values()) out[proxy.name] = proxy.stats();
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.proxies.values()].map(({ proxy }) => proxy.close()));
  }

  private selectLinks(selector: LinkSelector | undefined): DirectedLink[] {
    const names = this.nodes();
    const links: DirectedLink[] = [];
    for (const from of names) {
      for (const to of names) if (from !== to && (!selector || selector({ from, to }))) links.push({ from, to });
    }
    return links;
  }

  private applyAll(): void {
    for (const { link, proxy } of this.proxies.values()) this.applyTo(link, proxy);
  }

  private applyTo(link: DirectedLink, proxy: FaultProxy): void {
    const upstream = this.modeOf(link);
    const downstream = this.modeOf({ from: link.to, to: link.from });
    const current = proxy.currentModes;
    if (sameMode(current.upstream, upstream) && sameMode(current.downstream, downstream)) return;
    proxy.setModes({ upstream, downstream });
  }

  private requireNode(name: string): HostPort | null {
    const address = this.realAddresses.get(name);
    if (address === undefined) throw new UnknownNodeError(name);
    return address;
  }
}

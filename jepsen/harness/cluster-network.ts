// The network a test cluster's faults act on, whichever backend carries it.
// Under the proxy backend it is the Network of fault proxies itself. Under
// netns, routers and storage nodes each live in a namespace and cuts among
// them are drop rules; PostgreSQL stays in the host's namespace (the embedded
// database has no command prefix), reached through a fault proxy on the host
// link, so router->PostgreSQL links can still be cut and delayed.
import { UnsupportedFaultError, type DirectedLink, type LinkSelector, type NetnsNetwork, type Network, type PartitionBackend } from '../net/index.js';

export interface ClusterNetwork extends PartitionBackend {
  /** Delay every selected link by delayMs per chunk, until heal. */
  delay(delayMs: number, selector?: LinkSelector): Promise<void>;
}

export class NetnsClusterNetwork implements ClusterNetwork {
  readonly kind = 'netns' as const;

  /** `proxied` carries every link of `proxiedNode` (PostgreSQL); `namespaces` every other. */
  constructor(
    readonly namespaces: NetnsNetwork,
    readonly proxied: Network,
    private readonly proxiedNode: string,
  ) {}

  nodes(): string[] {
    return [...this.namespaces.nodes(), this.proxiedNode];
  }

  async cut(links: readonly DirectedLink[]): Promise<void> {
    const viaProxy = links.filter((l) => this.touchesProxied(l));
    await this.proxied.cut(viaProxy.filter((l) => this.proxiedKnows(l)));
    await this.namespaces.cut(links.filter((l) => !this.touchesProxied(l)));
  }

  cutLinks(): DirectedLink[] {
    return [...this.namespaces.cutLinks(), ...this.proxied.cutLinks()];
  }

  /** Only links to or from the proxied node: between namespaces a delay needs tc netem, which these kernels lack. */
  async delay(delayMs: number, selector: LinkSelector = () => true): Promise<void> {
    const names = this.nodes();
    const between = names.flatMap((from) => names.filter((to) => to !== from && selector({ from, to }) && !this.touchesProxied({ from, to })).map((to) => `${from}->${to}`));
    if (between.length > 0) {
      throw new UnsupportedFaultError(
        `under --net netns only links to or from ${this.proxiedNode} can be delayed (through their proxies); delaying ${between.slice(0, 3).join(', ')} needs tc netem, which this kernel lacks: use --net proxy`,
      );
    }
    await this.proxied.delay(delayMs, (l) => selector(l) && this.touchesProxied(l));
  }

  async heal(): Promise<void> {
    await this.proxied.heal();
    await this.namespaces.heal();
  }

  async close(): Promise<void> {
    try {
      await this.proxied.close();
    } finally {
      await this.namespaces.close();
    }
  }

  private touchesProxied(link: DirectedLink): boolean {
    return link.from === this.proxiedNode || link.to === this.proxiedNode;
  }

  /** The proxy network knows the routers (as sources) and the proxied node; a storage node never dials PostgreSQL. */
  private proxiedKnows(link: DirectedLink): boolean {
    const known = new Set(this.proxied.nodes());
    return known.has(link.from) && known.has(link.to);
  }
}

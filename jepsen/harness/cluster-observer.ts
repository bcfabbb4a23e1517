// Watches the cluster from outside the faults (the routers' real addresses):
// polls every router's Raft status into samples for the Raft invariants,
// answers who leads and who is primary for the nemesis, and says when the
// cluster has recovered.
import type { AdminClient, RaftStatusResponse } from '../../src/admin/index.js';
import type { RaftSample } from '../checker/index.js';
import type { TestCluster } from './test-cluster.js';

export interface ObserverOptions {
  readonly pollIntervalMs: number;
  /** Milliseconds since the run began (the history's clock). */
  readonly now: () => number;
  /** Samples kept at most; older ones are dropped first (the run reports how many). */
  readonly maxSamples?: number;
}

export interface CatchUp {
  /** null: not every repository caught up within the limit. */
  readonly ms: number | null;
  readonly outdatedAtStart: number;
  readonly stillOutdated: readonly string[];
}

export class ClusterObserver {
  private readonly admins = new Map<string, AdminClient>();
  private readonly samples: RaftSample[] = [];
  private dropped = 0;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;

  constructor(
    private readonly cluster: TestCluster,
    private readonly options: ObserverOptions,
  ) {
    for (const router of cluster.routerNames) this.admins.set(router, cluster.observerAdmin(router));
  }

  start(): void {
    const tick = (): void => {
      this.polling = this.pollOnce().then(() => undefined).finally(() => {
        if (this.timer !== undefined) this.timer = setTimeout(tick, this.options.pollIntervalMs);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.polling;
  }

  raftSamples(): { samples: RaftSample[]; dropped: number } {
    return { samples: [...this.samples], dropped: this.dropped };
  }

  /** One poll of every router; unreachable routers give no sample. */
  async pollOnce(): Promise<RaftSample[]> {
    const taken = await Promise.all(this.cluster.routerNames.map((router) => this.sample(router)));
    const fresh = taken.filter((s): s is RaftSample => s !== undefined);
    for (const s of fresh) this.keep(s);
    return fresh;
  }

  /** The router that leads in the highest term any router reports, if any. */
  async leader(): Promise<string | undefined> {
    const samples = await this.pollOnce();
    const best = samples.filter((s) => s.leader !== null).sort((a, b) => b.term - a.term)[0];
    return best?.leader ?? undefined;
  }

  /** The primaries of these repositories, as any reachable router reports them (not fresh). */
  async primaries(keys: readonly string[]): Promise<string[]> {
    const out: string[] = [];
    for (const key of keys) {
      for (const admin of this.admins.values()) {
        try {
          const m = await admin.repositoryMetadata({ virtual_storage: this.cluster.layout.virtualStorage, relative_path: key });
          if (m.primary !== '') out.push(m.primary);
          break;
        } catch {
          // try the next router
        }
      }
    }
    return out;
  }

  /** Repositories whose assigned replicas are not all on the repository's generation (fresh, from any router). */
  async outdatedRepositories(keys: readonly string[]): Promise<string[]> {
    const outdated: string[] = [];
    for (const key of keys) {
      let known = false;
      for (const admin of this.admins.values()) {
        try {
          const m = await admin.repositoryMetadata({ virtual_storage: this.cluster.layout.virtualStorage, relative_path: key, fresh: true });
          if (m.replicas.some((r) => r.assigned && Number(r.generation) !== Number(m.generation))) outdated.push(key);
          known = true;
          break;
        } catch {
          // try the next router
        }
      }
      if (!known) outdated.push(key);
    }
    return outdated;
  }

  /**
   * The repositories outdated now, then polled until each of them has been
   * seen with every assigned replica current: how long that took (null when
   * limitMs passed first). Repositories that fall behind later (writes go on
   * meanwhile) are not waited for.
   */
  async waitCaughtUp(keys: readonly string[], limitMs: number, intervalMs = 500): Promise<CatchUp> {
    const started = Date.now();
    const pending = new Set(await this.outdatedRepositories(keys));
    const outdatedAtStart = pending.size;
    for (;;) {
      if (pending.size === 0) return { ms: Date.now() - started, outdatedAtStart, stillOutdated: [] };
      if (Date.now() - started > limitMs) return { ms: null, outdatedAtStart, stillOutdated: [...pending] };
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
      const outdated = new Set(await this.outdatedRepositories([...pending]));
      for (const key of pending) if (!outdated.has(key)) pending.delete(key);
    }
  }

  /** Whether a Raft leader exists and every storage is healthy by quorum, asked freshly of any router. */
  async healthy(): Promise<boolean> {
    for (const admin of this.admins.values()) {
      try {
        const state = await admin.clusterState(true);
        // Every router's own view too: a router routes only to nodes its own probes reach.
        const everyView = state.routers.length >= this.admins.size && state.routers.every((r) => r.views.length > 0 && r.views.every((v) => v.healthy));
        if (state.fresh && state.storages.length === this.cluster.storageNames.length && state.storages.every((s) => s.healthy) && everyView) return true;
      } catch {
        // try the next router
      }
    }
    return false;
  }

  /** Polls healthy() until true or the deadline; resolves with whether it got there. */
  async waitHealthy(timeoutMs: number, intervalMs = 200): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await this.healthy()) return true;
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }

  close(): void {
    for (const admin of this.admins.values()) admin.close();
  }

  private async sample(router: string): Promise<RaftSample | undefined> {
    try {
      const status = await this.admins.get(router)!.raftStatus({ with_digest: true });
      const leaderId = Number(status.leader);
      const boot = this.cluster.process(router).pid;
      return {
        router,
        term: Number(status.term),
        leader: leaderId === 0 ? null : this.cluster.routerIdName(leaderId),
        commitIndex: Number(status.commit),
        appliedIndex: Number(status.applied),
        time: this.options.now(),
        ...(boot === undefined ? {} : { boot }),
        ...digestOf(status),
      };
    } catch {
      return undefined;
    }
  }

  private keep(sample: RaftSample): void {
    this.samples.push(sample);
    const max = this.options.maxSamples ?? 200_000;
    if (this.samples.length > max) {
      this.samples.shift();
      this.dropped++;
    }
  }
}

/** The applied-state digest and its index, when the router gave one (routers without it answer ''). */
function digestOf(status: RaftStatusResponse): Pick<RaftSample, 'appliedDigest' | 'digestIndex'> {
  return status.state_digest === '' ? {} : { appliedDigest: status.state_digest, digestIndex: Number(status.digest_index) };
}

// DESIGN §8: a router proposes its own view of storage health when a verdict
// changes, and refreshes its liveness otherwise, so health by quorum counts
// only routers that are alive and can reach the Raft group. One proposal is
// in flight at a time; a change that arrives meanwhile is published next,
// whole (the latest view supersedes any it replaces).
import type pino from 'pino';
import type { ClusterAccess } from '../cluster/index.js';
import type { HealthView } from '../health/index.js';

export interface HealthPublisherOptions {
  readonly access: ClusterAccess;
  readonly view: () => HealthView;
  /** How often liveness is refreshed (and a view that failed to publish is retried). */
  readonly refreshIntervalMs: number;
  readonly logger?: pino.Logger;
}

export class HealthPublisher {
  private timer: NodeJS.Timeout | undefined;
  private inFlight = false;
  private changedWhileInFlight = false;
  private published: string | undefined;
  private stopped = false;

  constructor(private readonly options: HealthPublisherOptions) {}

  start(): void {
    this.timer = setInterval(() => this.publish(), this.options.refreshIntervalMs);
    this.timer.unref();
    this.publish();
  }

  /** The prober's onChange: publish now rather than at the next refresh. */
  viewChanged(): void {
    this.publish();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  private publish(): void {
    if (this.stopped) return;
    if (this.inFlight) {
      this.changedWhileInFlight = true;
      return;
    }
    this.inFlight = true;
    this.publishOnce()
      .catch((error: unknown) => this.options.logger?.debug({ err: error }, 'health view not published; retrying at the next refresh'))
      .finally(() => {
        this.inFlight = false;
        if (this.changedWhileInFlight) {
          this.changedWhileInFlight = false;
          this.publish();
        }
      });
  }

  private async publishOnce(): Promise<void> {
    const view = this.options.view();
    const reports = view.nodes.map((n) => ({ virtualStorage: n.virtualStorage, storage: n.storage, healthy: n.healthy }));
    const key = JSON.stringify(reports);
    if (key === this.published) {
      await this.options.access.propose({ type: 'liveness-refresh' });
      return;
    }
    await this.options.access.propose({ type: 'health-update', reports });
    this.published = key;
  }
}

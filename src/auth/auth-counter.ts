// The labels of upstream's `gitaly_authentications_total{enforced, status}`,
// kept here without a prom-client dependency: a metrics module subscribes
// through AuthObserver and turns each attempt into a counter increment.

export type AuthStatusLabel =
  | 'ok'
  | 'would be ok'
  | 'unauthenticated'
  | 'denied'
  | 'server disabled authentication';

export interface AuthAttempt {
  /** False while the server is transitioning: failures are counted but let through. */
  enforced: boolean;
  status: AuthStatusLabel;
}

export type AuthObserver = (attempt: AuthAttempt) => void;

/** A plain in-memory counter keyed like the Prometheus series. */
export class AuthCounter {
  private readonly counts = new Map<string, number>();

  readonly observe: AuthObserver = (attempt) => {
    const key = seriesKey(attempt.enforced, attempt.status);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  };

  get(enforced: boolean, status: AuthStatusLabel): number {
    return this.counts.get(seriesKey(enforced, status)) ?? 0;
  }

  /** Every series seen so far, as Prometheus label values. */
  series(): Array<{ enforced: 'true' | 'false'; status: AuthStatusLabel; count: number }> {
    return [...this.counts].map(([key, count]) => {
      const [enforced, status] = JSON.parse(key) as ['true' | 'false', AuthStatusLabel];
      return { enforced, status, count };
    });
  }
}

function seriesKey(enforced: boolean, status: AuthStatusLabel): string {
  return JSON.stringify([enforced ? 'true' : 'false', status]);
}

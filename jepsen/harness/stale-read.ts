// A read a router served from its own cluster state because no quorum
// confirmed it (response header praefect-read-consistency: stale, DESIGN §12).
// It is recorded with `stale: true`, and the linearizability checker leaves
// it out: such a read promises no recency, only that it was served.
export const STALE_READ_HEADER = 'praefect-read-consistency';

export class StaleRead {
  constructor(readonly value: unknown) {}
}

/** The value a read op returns: wrapped when the router marked it stale. */
export function servedRead<T>(value: T, stale: boolean): T | StaleRead {
  return stale ? new StaleRead(value) : value;
}

// Load shedding: a bound on the calls the router forwards at once, and on
// those aimed at one repository, so one hot repository cannot take every
// slot. Past a bound the caller is refused at once (RESOURCE_EXHAUSTED)
// rather than queued: a queue would only move the wait into the router.
import { OverloadedError } from './errors.js';

export interface InFlightLimits {
  /** Calls in flight through this router. */
  maxCalls: number;
  /** Calls in flight per repository (virtual storage + relative path). */
  maxCallsPerRepository: number;
}

/** Gives its slot back once, however often it is called. */
export type Release = () => void;

export class InFlightLimiter {
  private calls = 0;
  private readonly perRepository = new Map<string, number>();

  constructor(readonly limits: InFlightLimits) {}

  get inFlight(): number {
    return this.calls;
  }

  acquireCall(): Release {
    if (this.calls >= this.limits.maxCalls) throw new OverloadedError('router', this.limits.maxCalls);
    this.calls++;
    return once(() => this.calls--);
  }

  acquireRepository(key: string): Release {
    const current = this.perRepository.get(key) ?? 0;
    if (current >= this.limits.maxCallsPerRepository) throw new OverloadedError('repository', this.limits.maxCallsPerRepository);
    this.perRepository.set(key, current + 1);
    return once(() => {
      const left = (this.perRepository.get(key) ?? 1) - 1;
      if (left === 0) this.perRepository.delete(key);
      else this.perRepository.set(key, left);
    });
  }
}

function once(release: () => void): Release {
  let released = false;
  return () => {
    if (released) return;
    released = true;
    release();
  };
}

// Wall-clock offsets per process through libfaketime: the process starts
// with the library preloaded and reads its offset from a file the nemesis
// rewrites. The monotonic clock is left alone (FAKETIME_DONT_FAKE_MONOTONIC),
// so timers and hrtime stay sane while Date.now() jumps.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const LIBFAKETIME_PATHS = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1'];

export class ClockFaultUnavailableError extends Error {
  readonly code = 'JEPSEN_CLOCK_UNAVAILABLE';
}

export function findLibfaketime(): string | undefined {
  return LIBFAKETIME_PATHS.find((p) => existsSync(p));
}

/** libfaketime's relative offset syntax, whole seconds (its file format has no finer unit we rely on). */
export function faketimeOffset(offsetMs: number): string {
  const seconds = Math.round(offsetMs / 1000);
  return `${seconds >= 0 ? '+' : '-'}${Math.abs(seconds)}s`;
}

export class ClockFaker {
  private constructor(
    private readonly library: string,
    private readonly dir: string,
  ) {}

  /** A faker when libfaketime is installed; otherwise the error says how to get it. */
  static create(dir: string): ClockFaker {
    const library = findLibfaketime();
    if (library === undefined) {
      throw new ClockFaultUnavailableError(`clock faults need libfaketime (looked in ${LIBFAKETIME_PATHS.join(', ')}); install it with: apt-get install -y libfaketime`);
    }
    mkdirSync(dir, { recursive: true });
    return new ClockFaker(library, dir);
  }

  /** The environment a process starts with so its clock can be moved later; starts at no offset. */
  envFor(name: string): NodeJS.ProcessEnv {
    const file = this.fileOf(name);
    if (!existsSync(file)) writeFileSync(file, faketimeOffset(0));
    return { LD_PRELOAD: this.library, FAKETIME_DONT_FAKE_MONOTONIC: '1', FAKETIME_TIMESTAMP_FILE: file, FAKETIME_CACHE_DURATION: '1' };
  }

  /** Moves `name`'s wall clock to real time + offsetMs (takes effect within the library's 1 s cache). */
  setOffset(name: string, offsetMs: number): void {
    writeFileSync(this.fileOf(name), faketimeOffset(offsetMs));
  }

  private fileOf(name: string): string {
    return path.join(this.dir, `${name}.faketime`);
  }
}

// Size-limited storage folders (root only): a tmpfs of a fixed size mounted
// on each storage node's storage path before the node starts, filled to the
// last byte by a disk-full fault and freed again on its stop. The mount's
// source names the harness process (`jhdisk<pid>`), so mounts a crashed run
// left behind are found and unmounted at the next start.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SOURCE_PREFIX = 'jhdisk';
const FILL_FILE = 'jepsen-disk-fill';
const CHUNK_BYTES = 1024 * 1024;

export class DiskFaultUnavailableError extends Error {
  readonly code = 'JEPSEN_DISK_FAULT_UNAVAILABLE';
}

/** Why size-limited storage folders cannot be made here; undefined when they can. */
export function diskFaultMissing(): string | undefined {
  return process.getuid?.() === 0 ? undefined : `not root (uid ${process.getuid?.() ?? 'unknown'}): mounting a tmpfs needs CAP_SYS_ADMIN`;
}

export class DiskFiller {
  private readonly mounted = new Set<string>();
  private readonly filled = new Set<string>();

  /** Mount a tmpfs of sizeBytes on each folder (created if missing). Undone on failure. */
  static async mount(dirs: readonly string[], sizeBytes: number): Promise<DiskFiller> {
    const missing = diskFaultMissing();
    if (missing !== undefined) throw new DiskFaultUnavailableError(missing);
    const filler = new DiskFiller();
    try {
      for (const dir of dirs) {
        mkdirSync(dir, { recursive: true });
        await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0755`, `${SOURCE_PREFIX}${process.pid}`, dir]);
        filler.mounted.add(dir);
      }
    } catch (error) {
      await filler.unmountAll();
      throw error;
    }
    return filler;
  }

  /** Unmount every tmpfs a harness process that is gone left behind. Returns the mount points. */
  static async cleanupDeadRuns(): Promise<string[]> {
    const stale = readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((line) => line.split(' '))
      .filter(([source, , type]) => type === 'tmpfs' && source !== undefined && source.startsWith(SOURCE_PREFIX) && !alive(Number(source.slice(SOURCE_PREFIX.length))))
      .map(([, target]) => unescapeMountPath(target ?? ''));
    for (const target of stale) await run('umount', ['-l', target]).catch(() => undefined);
    return stale;
  }

  /** Write to the folder until the filesystem says ENOSPC. Returns the bytes written. */
  async fill(dir: string): Promise<number> {
    this.filled.add(dir);
    const file = await open(path.join(dir, FILL_FILE), 'a');
    const chunk = Buffer.alloc(CHUNK_BYTES, 0x6a);
    let written = 0;
    try {
      for (let size = CHUNK_BYTES; size >= 1; size = Math.floor(size / 2)) {
        for (;;) {
          try {
            const { bytesWritten } = await file.write(chunk, 0, size);
            written += bytesWritten;
            if (bytesWritten === 0) break;
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
            break;
          }
        }
      }
    } finally {
      await file.close();
    }
    return written;
  }

  async free(dir: string): Promise<void> {
    this.filled.delete(dir);
    await unlink(path.join(dir, FILL_FILE)).catch(() => undefined);
  }

  async freeAll(): Promise<void> {
    for (const dir of [...this.filled]) await this.free(dir);
  }

  /** Lazily, so a process still holding a file there cannot keep the mount alive. */
  async unmountAll(): Promise<void> {
    for (const dir of [...this.mounted]) {
      await run('umount', ['-l', dir]).catch(() => undefined);
      this.mounted.delete(dir);
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** /proc/mounts escapes space, tab, newline and backslash as octal. */
function unescapeMountPath(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

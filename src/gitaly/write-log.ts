// The storage node's write log ([audit] write_log): one JSON line per
// mutator that ended OK and carried the router's `praefect-write` marker,
// for the Jepsen split-brain check. Each line is one write(2) on a file
// opened with O_APPEND, issued before the call's OK is sent: nothing is
// buffered, so a SIGKILL loses at most the line being written, and an
// acknowledged write always has its line. The file is bounded: past
// maxBytes it is renamed to `<file>.1` (replacing the previous one) and a
// fresh file starts, so the log never holds more than about 2 × maxBytes.
import { closeSync, fstatSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from './config.js';

export interface WriteLogEntry {
  /** ISO 8601, the node's wall clock. */
  readonly time: string;
  readonly storage: string;
  readonly relative_path: string;
  /** The gRPC path, e.g. /gitaly.RefService/WriteRef. */
  readonly method: string;
  readonly repository_id: number;
  readonly generation: number;
  readonly primary: boolean;
  readonly router: string;
}

export interface WriteLogStats {
  readonly lines: number;
  readonly rotations: number;
  /** Lines that could not be written (disk full, I/O error): the log has holes. */
  readonly failures: number;
}

/** The suffix of the rotated-out file; readers read it before the current one. */
export const ROTATED_SUFFIX = '.1';

export class WriteLog {
  private fd: number;
  private bytes: number;
  private lines = 0;
  private rotations = 0;
  private failures = 0;

  private constructor(
    readonly file: string,
    readonly maxBytes: number,
    private readonly onFailure: (error: unknown) => void,
  ) {
    this.fd = openAppend(file);
    this.bytes = fstatSync(this.fd).size;
  }

  /** Opens (creating, appending to) the log; a ConfigError naming `audit.write_log` when it cannot. */
  static open(file: string, maxBytes: number, onFailure: (error: unknown) => void = () => undefined): WriteLog {
    try {
      mkdirSync(path.dirname(file), { recursive: true });
      return new WriteLog(file, maxBytes, onFailure);
    } catch (error) {
      throw new ConfigError(`audit.write_log: cannot open ${file}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Appends one line; a failure is counted and reported, never thrown (the write it records already happened). */
  append(entry: WriteLogEntry): void {
    const line = Buffer.from(`${JSON.stringify(entry)}\n`);
    try {
      if (this.bytes > 0 && this.bytes + line.byteLength > this.maxBytes) this.rotate();
      writeSync(this.fd, line);
      this.bytes += line.byteLength;
      this.lines++;
    } catch (error) {
      this.failures++;
      this.onFailure(error);
    }
  }

  stats(): WriteLogStats {
    return { lines: this.lines, rotations: this.rotations, failures: this.failures };
  }

  close(): void {
    closeSync(this.fd);
  }

  // Rename first: if it fails, the current file stays open and usable.
  private rotate(): void {
    renameSync(this.file, `${this.file}${ROTATED_SUFFIX}`);
    const fresh = openAppend(this.file);
    closeSync(this.fd);
    this.fd = fresh;
    this.bytes = 0;
    this.rotations++;
  }
}

function openAppend(file: string): number {
  return openSync(file, 'a', 0o644);
}

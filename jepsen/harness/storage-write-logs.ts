// The storage nodes' write logs after a run (bin/gitaly [audit] write_log):
// each node's rotated file then its current one, parsed into the lines the
// split-brain check reads from what the nodes did.
import { existsSync, readFileSync } from 'node:fs';
import { parseWriteLog, type WriteLogLine } from '../checker/index.js';

export interface StorageWriteLogs {
  /** The files read (a node without a file yet adds none). */
  readonly files: string[];
  readonly lines: WriteLogLine[];
  /** Lines no entry could be read from, per node (a torn line after a SIGKILL). */
  readonly unreadable: { readonly source: string; readonly lineNumber: number; readonly text: string }[];
}

export function readStorageWriteLogs(storages: readonly { readonly name: string; readonly writeLog?: string }[]): StorageWriteLogs {
  const files: string[] = [];
  const lines: WriteLogLine[] = [];
  const unreadable: StorageWriteLogs['unreadable'][number][] = [];
  for (const storage of storages) {
    if (storage.writeLog === undefined) continue;
    // Oldest first: `.1` is what rotation moved aside.
    for (const file of [`${storage.writeLog}.1`, storage.writeLog]) {
      if (!existsSync(file)) continue;
      files.push(file);
      const parsed = parseWriteLog(readFileSync(file, 'utf8'), storage.name);
      lines.push(...parsed.lines);
      unreadable.push(...parsed.unreadable.map((u) => ({ source: storage.name, ...u })));
    }
  }
  return { files, lines, unreadable };
}

/**
 * The ids of the writes the routers acknowledged: their per-call log lines
 * with a write_intent and code OK. A router killed right after answering may
 * not have logged its line; that write then counts as unacknowledged, which
 * can hide a violation but never invents one.
 */
export function acknowledgedWrites(routerLogFiles: readonly string[]): Set<string> {
  const acknowledged = new Set<string>();
  for (const file of routerLogFiles) {
    if (!existsSync(file)) continue;
    for (const raw of readFileSync(file, 'utf8').split('\n')) {
      if (!raw.includes('"write_intent"')) continue;
      try {
        const line = JSON.parse(raw) as Record<string, unknown>;
        if (line['grpc.code'] === 'OK' && typeof line['write_intent'] === 'string') acknowledged.add(line['write_intent']);
      } catch {
        // A torn last line of a killed router.
      }
    }
  }
  return acknowledged;
}

/** Marks each line that names its write with whether a router acknowledged that write. */
export function withAcknowledgement(lines: readonly WriteLogLine[], acknowledged: ReadonlySet<string>): WriteLogLine[] {
  return lines.map((line) => (line.write === undefined ? line : { ...line, acknowledged: acknowledged.has(line.write) }));
}

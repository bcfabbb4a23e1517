/** One write a storage node logged: it wrote `repository` at `generation`. */
export interface StorageWrite {
  repository: string | number;
  generation: number;
  storage: string;
  time?: number;
}

export interface SplitBrainViolation {
  repository: string | number;
  generation: number;
  /** The distinct storages that wrote this generation, sorted. */
  storages: string[];
}

export interface SplitBrainResult {
  valid: boolean;
  violations: SplitBrainViolation[];
  /** Distinct (repository, generation) pairs seen. */
  generations: number;
}

/**
 * Two primaries at once show up as two storages writing the same generation
 * of a repository: each (repository, generation) must have exactly one
 * writing storage.
 */
export function splitBrain(writes: readonly StorageWrite[]): SplitBrainResult {
  const writers = new Map<string, { repository: string | number; generation: number; storages: Set<string> }>();
  for (const write of writes) {
    const id = JSON.stringify([write.repository, write.generation]);
    const entry = writers.get(id) ?? { repository: write.repository, generation: write.generation, storages: new Set<string>() };
    entry.storages.add(write.storage);
    writers.set(id, entry);
  }
  const violations: SplitBrainViolation[] = [];
  for (const entry of writers.values()) {
    if (entry.storages.size > 1) violations.push({ repository: entry.repository, generation: entry.generation, storages: [...entry.storages].sort() });
  }
  return { valid: violations.length === 0, violations, generations: writers.size };
}

/**
 * One line of a storage node's write log ([audit] write_log in bin/gitaly):
 * a mutator the node completed OK, with the router's marker. `source` is
 * where the harness read it (the node's name), added when parsed.
 */
export interface WriteLogLine {
  readonly time?: string;
  readonly storage: string;
  readonly relative_path?: string;
  readonly method?: string;
  readonly repository_id: number;
  readonly generation: number;
  readonly primary: boolean;
  readonly router?: string;
  readonly source?: string;
  /** The write's id (the router's write intent), when the router sent one. */
  readonly write?: string;
  /**
   * Whether the router acknowledged the write (its log has the id with code
   * OK). false: its generation bump was refused, e.g. a failover raced it —
   * the cluster did not take it, so it cannot be a second primary.
   */
  readonly acknowledged?: boolean;
}

export interface WriteLogViolation {
  readonly repositoryId: number;
  readonly generation: number;
  /** The distinct storages that wrote this generation as its primary, sorted. */
  readonly storages: string[];
  /** The first primary line of each of those storages. */
  readonly lines: WriteLogLine[];
}

export interface WriteLogSplitBrainResult {
  readonly valid: boolean;
  readonly violations: WriteLogViolation[];
  /** Distinct (repository, generation) pairs written by a primary. */
  readonly generations: number;
  readonly primaryLines: number;
  /** Primary lines of writes the router did not acknowledge (refused bumps): not judged. */
  readonly unacknowledgedLines: number;
  /** Lines of transaction secondaries: logged, not judged. */
  readonly secondaryLines: number;
}

/**
 * Issue 6's split-brain check, from what the storage nodes did: for each
 * (repository_id, generation), at most one distinct storage accepted a write
 * as its primary. A second one means two nodes each believed they were the
 * primary of the same generation: two primaries at once. Only writes the
 * cluster took count: a write whose bump was refused (a failover raced it)
 * was accepted by a node that had just stopped being primary, and is
 * repaired, not acknowledged.
 */
export function splitBrainFromWriteLogs(lines: readonly WriteLogLine[]): WriteLogSplitBrainResult {
  const primaries = new Map<string, { repositoryId: number; generation: number; firstByStorage: Map<string, WriteLogLine> }>();
  let primaryLines = 0;
  let unacknowledgedLines = 0;
  for (const line of lines) {
    if (!line.primary) continue;
    primaryLines++;
    if (line.acknowledged === false) {
      unacknowledgedLines++;
      continue;
    }
    const id = `${line.repository_id}\u0000${line.generation}`;
    let entry = primaries.get(id);
    if (entry === undefined) primaries.set(id, (entry = { repositoryId: line.repository_id, generation: line.generation, firstByStorage: new Map() }));
    if (!entry.firstByStorage.has(line.storage)) entry.firstByStorage.set(line.storage, line);
  }
  const violations: WriteLogViolation[] = [];
  for (const entry of primaries.values()) {
    if (entry.firstByStorage.size < 2) continue;
    const storages = [...entry.firstByStorage.keys()].sort();
    violations.push({ repositoryId: entry.repositoryId, generation: entry.generation, storages, lines: storages.map((s) => entry.firstByStorage.get(s)!) });
  }
  violations.sort((a, b) => a.repositoryId - b.repositoryId || a.generation - b.generation);
  return { valid: violations.length === 0, violations, generations: primaries.size, primaryLines, unacknowledgedLines, secondaryLines: lines.length - primaryLines };
}

export interface ParsedWriteLog {
  readonly lines: WriteLogLine[];
  /** Lines that are not a write-log entry (e.g. one torn by a crash and continued by the next run), with their line numbers. */
  readonly unreadable: { readonly lineNumber: number; readonly text: string }[];
}

/** Parses one write log file's text; unreadable lines are returned, not thrown, so one torn line cannot hide the rest. */
export function parseWriteLog(text: string, source?: string): ParsedWriteLog {
  const lines: WriteLogLine[] = [];
  const unreadable: { lineNumber: number; text: string }[] = [];
  text.split('\n').forEach((raw, i) => {
    if (raw.trim() === '') return;
    const line = writeLogLineOf(raw);
    if (line === undefined) unreadable.push({ lineNumber: i + 1, text: raw.length > 200 ? `${raw.slice(0, 200)}…` : raw });
    else lines.push(source === undefined ? line : { ...line, source });
  });
  return { lines, unreadable };
}

function writeLogLineOf(raw: string): WriteLogLine | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const line = value as Record<string, unknown>;
  const ok = typeof line['storage'] === 'string' && Number.isSafeInteger(line['repository_id']) && Number.isSafeInteger(line['generation']) && typeof line['primary'] === 'boolean';
  return ok ? (line as unknown as WriteLogLine) : undefined;
}

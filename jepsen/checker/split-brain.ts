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

import { clusterInvariant } from './errors.js';

/**
 * A repository's replicas as one flat array of pairs `[key, generation, ...]`,
 * where key = storage id × 2 + 1 if the storage is assigned, and generation is
 * -1 for an assigned storage that holds no replica yet. One small array per
 * repository instead of an object per replica keeps 1 M repositories compact.
 */
export type ReplicaPairs = number[];

export const NO_GENERATION = -1;

export interface Replica {
  readonly storage: number;
  readonly generation: number;
  readonly assigned: boolean;
}

function pairAt(pairs: ReplicaPairs, storage: number): number {
  for (let i = 0; i < pairs.length; i += 2) if (pairs[i]! >> 1 === storage) return i;
  return -1;
}

export function generationOf(pairs: ReplicaPairs, storage: number): number {
  const at = pairAt(pairs, storage);
  return at < 0 ? NO_GENERATION : pairs[at + 1]!;
}

export function isAssigned(pairs: ReplicaPairs, storage: number): boolean {
  const at = pairAt(pairs, storage);
  return at >= 0 && (pairs[at]! & 1) === 1;
}

export function hasAssignments(pairs: ReplicaPairs): boolean {
  for (let i = 0; i < pairs.length; i += 2) if ((pairs[i]! & 1) === 1) return true;
  return false;
}

/** The highest generation of any replica, -1 when none holds one. */
export function latestGeneration(pairs: ReplicaPairs): number {
  let latest = NO_GENERATION;
  for (let i = 1; i < pairs.length; i += 2) latest = Math.max(latest, pairs[i]!);
  return latest;
}

/** Whether the storage may serve as primary by assignment: assigned, or any replica holder when nothing is assigned. */
export function isEligible(pairs: ReplicaPairs, storage: number): boolean {
  return hasAssignments(pairs) ? isAssigned(pairs, storage) : generationOf(pairs, storage) >= 0;
}

export function replicas(pairs: ReplicaPairs): Replica[] {
  const list: Replica[] = [];
  for (let i = 0; i < pairs.length; i += 2) list.push({ storage: pairs[i]! >> 1, generation: pairs[i + 1]!, assigned: (pairs[i]! & 1) === 1 });
  return list;
}

export function assignedStorages(pairs: ReplicaPairs): number[] {
  return replicas(pairs)
    .filter((r) => r.assigned)
    .map((r) => r.storage);
}

/** Raises a replica's generation (adding the replica if absent). Lowering is a bug: generations never decrease. */
export function raiseGeneration(pairs: ReplicaPairs, storage: number, generation: number): void {
  const at = pairAt(pairs, storage);
  if (at < 0) {
    pairs.push(storage * 2, generation);
    return;
  }
  const current = pairs[at + 1]!;
  clusterInvariant(generation >= current, () => `generation of storage ${storage} would fall from ${current} to ${generation}`);
  pairs[at + 1] = generation;
}

/** Makes exactly `storages` assigned; replicas that lose their assignment keep their generation. */
export function assignExactly(pairs: ReplicaPairs, storages: readonly number[]): void {
  const wanted = new Set(storages);
  for (let i = pairs.length - 2; i >= 0; i -= 2) {
    const storage = pairs[i]! >> 1;
    if (wanted.has(storage)) {
      pairs[i] = storage * 2 + 1;
      wanted.delete(storage);
    } else if (pairs[i + 1] === NO_GENERATION) {
      pairs.splice(i, 2);
    } else {
      pairs[i] = storage * 2;
    }
  }
  for (const storage of storages) if (wanted.has(storage)) pairs.push(storage * 2 + 1, NO_GENERATION);
}

// Builds a large cluster state the way routers do: encoded create-repository
// commands applied in batches to the LevelDB state machine, as Raft would
// hand them over. Upstream-shaped repositories: hashed relative paths, three
// assigned replicas all on generation 0, the primary rotating.
import { createHash } from 'node:crypto';
import { derivedReplicaPath, encodeCommand, type ClusterCommand, type ClusterStateMachine } from '../../src/cluster/index.js';
import type { AppliedCommand } from '../../src/raft/state-machine.js';

export const SCALE_VIRTUAL_STORAGE = 'default';
export const SCALE_STORAGES = ['gitaly-1', 'gitaly-2', 'gitaly-3'] as const;

export function scaleRelativePath(id: number): string {
  const hash = createHash('sha256').update(String(id)).digest('hex');
  return `@hashed/${hash.slice(0, 2)}/${hash.slice(2, 4)}/${hash}.git`;
}

export function scalePrimary(id: number): string {
  return SCALE_STORAGES[id % SCALE_STORAGES.length]!;
}

function createCommand(id: number, router: string, stampMs: number): Uint8Array {
  const primary = scalePrimary(id);
  const command: ClusterCommand = {
    type: 'create-repository',
    router,
    stampMs,
    repositoryId: id,
    virtualStorage: SCALE_VIRTUAL_STORAGE,
    relativePath: scaleRelativePath(id),
    replicaPath: derivedReplicaPath(id),
    primary,
    assigned: SCALE_STORAGES,
    updatedSecondaries: SCALE_STORAGES.filter((s) => s !== primary),
  };
  return encodeCommand(command);
}

export interface BuildOptions {
  readonly count: number;
  readonly batch: number;
  /** The router name stamped on the commands (the restarted router's own name). */
  readonly router: string;
  readonly stampMs: number;
  readonly onProgress?: (done: number) => void;
}

/** Applies one health view (every storage healthy), then `count` repositories; returns the last applied index. */
export async function buildScaleState(machine: ClusterStateMachine, options: BuildOptions): Promise<number> {
  let index = machine.appliedIndex();
  const health = encodeCommand({
    type: 'health-update',
    router: options.router,
    stampMs: options.stampMs,
    reports: SCALE_STORAGES.map((storage) => ({ virtualStorage: SCALE_VIRTUAL_STORAGE, storage, healthy: true })),
  });
  await machine.apply([{ index: ++index, term: 1, payload: health }]);
  const progressEvery = Math.max(options.batch, Math.floor(options.count / 10));
  for (let from = 1; from <= options.count; from += options.batch) {
    const entries: AppliedCommand[] = [];
    for (let id = from; id < Math.min(from + options.batch, options.count + 1); id++) entries.push({ index: ++index, term: 1, payload: createCommand(id, options.router, options.stampMs) });
    const results = await machine.apply(entries);
    const refused = results.find((r) => (r as { status?: string }).status !== 'ok');
    if (refused !== undefined) throw new Error(`a create-repository command was refused: ${JSON.stringify(refused)}`);
    const done = Math.min(from + options.batch - 1, options.count);
    if (done % progressEvery < options.batch) options.onProgress?.(done);
  }
  return index;
}

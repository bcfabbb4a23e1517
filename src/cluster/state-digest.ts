import { createHash } from 'node:crypto';
import { splitHealthKey, type ClusterState } from './cluster-state.js';
import { NO_STORAGE } from './repository-record.js';

/** A digest of the replicated state, and the applied index it was taken at. */
export interface StateDigest {
  readonly index: number;
  /** Hex SHA-256 of the canonical encoding (stateDigest below). */
  readonly digest: string;
}

const DIGEST_FORMAT = 'praefect-cluster-state-digest/1';

/**
 * SHA-256 over a canonical encoding of the state: one JSON row per item,
 * routers by name, health views by (virtual storage, storage), repositories
 * by id, every storage by name rather than by interned id. Replicas and write
 * intents keep their record order, which apply alone decides.
 *
 * Why not the snapshot image's bytes: they follow Map insertion order, which
 * differs between routers holding the same state (a LevelDB reopen re-adds
 * every changed repository at the end; a restore adopts the image's order).
 * Why not a hash chain over applied entries: it would prove equal logs, not
 * equal states (a non-deterministic apply would pass), and it would have to
 * travel in every snapshot. This one is a pure function of the state, so it
 * is the same after a snapshot restore or a reopen, on every router. It costs
 * O(state): about a second per million repositories.
 */
export function stateDigest(state: ClusterState): string {
  const hash = createHash('sha256');
  const row = (...fields: unknown[]): void => void hash.update(`${JSON.stringify(fields)}\n`);
  const storage = (id: number): string | null => (id === NO_STORAGE ? null : state.storages.name(id));
  row(DIGEST_FORMAT);
  row('time', state.clusterTimeMs);
  row('settings', Object.entries(state.settings).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  for (const name of [...state.routers.keys()].sort()) {
    const router = state.routers.get(name)!;
    const views = [...router.views]
      .map(([key, view]) => {
        const { virtualStorage, storage: id } = splitHealthKey(key);
        return JSON.stringify([state.virtualStorages.name(virtualStorage), storage(id), view.healthy, view.sinceMs]);
      })
      .sort();
    row('router', name, router.latestStampMs, router.clockOffsetMs, router.lastSeenMs ?? null, views);
  }
  for (const id of [...state.repositories.keys()].sort((a, b) => a - b)) {
    const r = state.repositories.get(id)!;
    const replicas: unknown[] = [];
    for (let k = 0; k < r.replicas.length; k += 2) replicas.push([storage(r.replicas[k]! >> 1), (r.replicas[k]! & 1) === 1, r.replicas[k + 1]]);
    const intents = (r.intents ?? []).map((w) => [w.intentId, w.router, storage(w.storage), w.generation, w.recordedAtMs]);
    row('repository', id, state.virtualStorages.name(r.virtualStorage), r.relativePath, r.customReplicaPath ?? null, storage(r.primary), r.primaryBase, replicas, intents);
  }
  return hash.digest('hex');
}

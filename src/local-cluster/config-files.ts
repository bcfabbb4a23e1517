// The TOML files of a local cluster's processes, in the same format an
// operator would write by hand.
import type { ClusterLayout, LayoutRouter } from './cluster-layout.js';

export interface RouterTuning {
  readonly monitorIntervalMs: number;
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly logLevel: string;
}

export function storageNodeToml(layout: ClusterLayout, index: number, storageDir: string): string {
  const node = layout.storages[index]!;
  return [
    `listen_addr = "${layout.host}:${node.port}"`,
    '',
    '[[storage]]',
    `name = "${node.name}"`,
    `path = ${JSON.stringify(storageDir)}`,
    '',
    '[auth]',
    `token = "${layout.token}"`,
    '',
    '[logging]',
    'level = "info"',
    '',
  ].join('\n');
}

export function routerToml(layout: ClusterLayout, router: LayoutRouter, raftDir: string, database: { host: string; port: number; user: string; dbname: string; password?: string }, tuning: RouterTuning): string {
  return [
    `listen_addr = "${layout.host}:${router.port}"`,
    `prometheus_listen_addr = "${layout.host}:${router.metricsPort}"`,
    '',
    '[auth]',
    `token = "${layout.token}"`,
    '',
    '[logging]',
    `level = "${tuning.logLevel}"`,
    '',
    '[[virtual_storage]]',
    `name = "${layout.virtualStorage}"`,
    ...layout.storages.flatMap((s) => ['', '[[virtual_storage.node]]', `storage = "${s.name}"`, `address = "tcp://${layout.host}:${s.port}"`, `token = "${layout.token}"`]),
    '',
    '[failover]',
    `monitor_interval = "${tuning.monitorIntervalMs}ms"`,
    '',
    '[database]',
    `host = "${database.host}"`,
    `port = ${database.port}`,
    `user = "${database.user}"`,
    `dbname = "${database.dbname}"`,
    ...(database.password === undefined ? [] : [`password = "${database.password}"`]),
    '',
    '[raft]',
    `node_id = ${router.id}`,
    `data_dir = ${JSON.stringify(raftDir)}`,
    `tick = "${tuning.tickMs}ms"`,
    `election_ticks = ${tuning.electionTicks}`,
    `peers = [${layout.routers.map((r) => `{ id = ${r.id}, address = "${layout.host}:${r.raftPort}" }`).join(', ')}]`,
    '',
  ].join('\n');
}

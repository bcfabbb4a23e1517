// The TOML files of a local cluster's processes, in the same format an
// operator would write by hand.
import type { ClusterLayout, LayoutRouter } from './cluster-layout.js';

export interface RouterTuning {
  readonly monitorIntervalMs: number;
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly logLevel: string;
  /** Appended as is: further tables of the router's configuration. */
  readonly extraToml: string;
}

/** The host a process (praefect-N, gitaly-N) listens on, and others dial it at. */
export type HostOf = (name: string) => string;

export function storageNodeToml(layout: ClusterLayout, index: number, storageDir: string, hostOf: HostOf = () => layout.host, writeLog?: string): string {
  const node = layout.storages[index]!;
  return [
    `listen_addr = "${hostOf(node.name)}:${node.port}"`,
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
    ...writeLogToml(writeLog),
  ].join('\n');
}

/** The storage node's write log (fault tests): every OK mutator the router marked, one JSON line each. */
function writeLogToml(writeLog: string | undefined): string[] {
  return writeLog === undefined ? [] : ['[audit]', `write_log = ${JSON.stringify(writeLog)}`, ''];
}

export type Dial = (from: string, to: string, address: string) => string;

export interface DatabaseAddress {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly dbname: string;
  readonly password?: string;
}

export function routerToml(
  layout: ClusterLayout,
  router: LayoutRouter,
  raftDir: string,
  database: DatabaseAddress,
  tuning: RouterTuning,
  dial: Dial,
  hostOf: HostOf = () => layout.host,
): string {
  const [dbHost, dbPort] = splitHostPort(dial(router.name, 'postgres', `${database.host}:${database.port}`));
  const own = hostOf(router.name);
  return [
    `listen_addr = "${own}:${router.port}"`,
    `prometheus_listen_addr = "${own}:${router.metricsPort}"`,
    '',
    '[auth]',
    `token = "${layout.token}"`,
    '',
    '[logging]',
    `level = "${tuning.logLevel}"`,
    '',
    '[[virtual_storage]]',
    `name = "${layout.virtualStorage}"`,
    ...layout.storages.flatMap((s) => ['', '[[virtual_storage.node]]', `storage = "${s.name}"`, `address = "tcp://${dial(router.name, s.name, `${hostOf(s.name)}:${s.port}`)}"`, `token = "${layout.token}"`]),
    '',
    '[failover]',
    `monitor_interval = "${tuning.monitorIntervalMs}ms"`,
    '',
    '[database]',
    `host = "${dbHost}"`,
    `port = ${dbPort}`,
    `user = "${database.user}"`,
    `dbname = "${database.dbname}"`,
    ...(database.password === undefined ? [] : [`password = "${database.password}"`]),
    '',
    '[raft]',
    `node_id = ${router.id}`,
    `data_dir = ${JSON.stringify(raftDir)}`,
    `tick = "${tuning.tickMs}ms"`,
    `election_ticks = ${tuning.electionTicks}`,
    `peers = [${layout.routers.map((r) => `{ id = ${r.id}, address = "${r.id === router.id ? `${own}:${r.raftPort}` : dial(router.name, r.name, `${hostOf(r.name)}:${r.raftPort}`)}" }`).join(', ')}]`,
    '',
    tuning.extraToml,
  ].join('\n');
}

function splitHostPort(address: string): [string, number] {
  const at = address.lastIndexOf(':');
  return [address.slice(0, at), Number(address.slice(at + 1))];
}

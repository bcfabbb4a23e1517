// Where everything of a local cluster lives, and the ports it uses. Written
// to <dir>/cluster.json on first start and read back on the next, so a
// restarted cluster finds its routers, nodes and database where they were.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { reservablePort } from '../db/free-port.js';

export interface LayoutNode {
  readonly name: string;
  readonly port: number;
}

export interface LayoutRouter {
  readonly id: number;
  readonly name: string;
  readonly port: number;
  readonly raftPort: number;
  readonly metricsPort: number;
}

export interface ClusterLayout {
  readonly version: 1;
  readonly dir: string;
  readonly host: string;
  readonly virtualStorage: string;
  /** The v2 token secret clients, routers and nodes share. */
  readonly token: string;
  readonly storages: readonly LayoutNode[];
  readonly routers: readonly LayoutRouter[];
  /** The git HTTP gateway's port. */
  readonly gatewayPort: number;
  readonly postgresPort: number;
}

export class LayoutError extends Error {
  readonly code = 'LOCAL_CLUSTER_LAYOUT';
}

export interface LayoutRequest {
  readonly dir: string;
  readonly routers: number;
  readonly storages: number;
  readonly host?: string;
  readonly virtualStorage?: string;
}

export async function loadOrCreateLayout(request: LayoutRequest): Promise<ClusterLayout> {
  const file = path.join(request.dir, 'cluster.json');
  if (existsSync(file)) return checkResumed(JSON.parse(readFileSync(file, 'utf8')) as ClusterLayout, request, file);
  const host = request.host ?? '127.0.0.1';
  const port = (): Promise<number> => reservablePort(host);
  const storages: LayoutNode[] = [];
  for (let i = 1; i <= request.storages; i++) storages.push({ name: `gitaly-${i}`, port: await port() });
  const routers: LayoutRouter[] = [];
  for (let id = 1; id <= request.routers; id++) routers.push({ id, name: `praefect-${id}`, port: await port(), raftPort: await port(), metricsPort: await port() });
  const layout: ClusterLayout = {
    version: 1,
    dir: path.resolve(request.dir),
    host,
    virtualStorage: request.virtualStorage ?? 'default',
    token: randomBytes(16).toString('hex'),
    storages,
    routers,
    gatewayPort: await port(),
    postgresPort: await port(),
  };
  mkdirSync(request.dir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(layout, null, 2)}\n`, { mode: 0o600 });
  return layout;
}

function checkResumed(layout: ClusterLayout, request: LayoutRequest, file: string): ClusterLayout {
  if (layout.version !== 1) throw new LayoutError(`${file}: unknown layout version ${String(layout.version)}`);
  if (layout.routers.length !== request.routers || layout.storages.length !== request.storages) {
    throw new LayoutError(
      `${file} describes ${layout.routers.length} routers and ${layout.storages.length} storage nodes, not ${request.routers} and ${request.storages}; ` +
        'resume with the same counts or use another folder',
    );
  }
  return { ...layout, dir: path.resolve(request.dir) };
}

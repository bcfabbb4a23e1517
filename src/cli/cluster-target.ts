// Which routers an operator command talks to, and with what token: from
// --router/--token, from a local cluster's folder (its cluster.json), or from
// a router's own configuration file (`praefect -config FILE <command>`).
import * as grpc from '@grpc/grpc-js';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { AdminClient } from '../admin/index.js';
import type { PraefectConfig } from '../config/index.js';
import type { ClusterLayout } from '../local-cluster/index.js';

export interface ClusterTarget {
  /** host:port of each router's client listener, tried in order. */
  readonly routers: readonly string[];
  readonly token: string;
  /** Router names by address, when known (from cluster.json). */
  readonly names: ReadonlyMap<string, string>;
  /** The virtual storage commands default to. */
  readonly virtualStorage: string;
  /** Where the target came from, for error messages. */
  readonly source: string;
}

/** Bad usage: exit code 2. */
export class UsageError extends Error {
  readonly code = 'CLUSTER_CLI_USAGE';
}

/** A command that ran and failed: exit code 1. */
export class CommandFailedError extends Error {
  readonly code = 'CLUSTER_CLI_FAILED';
}

export const DEFAULT_DIR = './cluster-data';

export interface TargetArgs {
  readonly dir?: string;
  readonly router?: readonly string[];
  readonly token?: string;
}

export function layoutFile(dir: string): string {
  return path.join(dir, 'cluster.json');
}

export function readLayout(dir: string): ClusterLayout | undefined {
  const file = layoutFile(dir);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ClusterLayout;
  } catch (error) {
    throw new UsageError(`${file} is not a cluster layout: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** `--router` wins; else `--dir` (default ./cluster-data) must hold a cluster.json. */
export function targetFromArgs(args: TargetArgs): ClusterTarget {
  const dir = args.dir ?? DEFAULT_DIR;
  const layout = readLayout(dir);
  const routers = (args.router ?? []).filter((r) => r !== '');
  if (routers.length > 0) {
    for (const r of routers) if (!/^[^:\s]+:\d+$/.test(r)) throw new UsageError(`--router: "${r}" is not HOST:PORT`);
    return { routers, token: args.token ?? layout?.token ?? '', names: namesOf(layout), virtualStorage: layout?.virtualStorage ?? 'default', source: `--router ${routers.join(',')}` };
  }
  if (layout === undefined) {
    throw new UsageError(`no router to talk to: pass --router HOST:PORT (and --token), or --dir of a cluster started with \`bin/cluster up\` (${layoutFile(dir)} not found)`);
  }
  return {
    routers: layout.routers.map((r) => `${layout.host}:${r.port}`),
    token: args.token ?? layout.token,
    names: namesOf(layout),
    virtualStorage: layout.virtualStorage,
    source: layoutFile(dir),
  };
}

function namesOf(layout: ClusterLayout | undefined): Map<string, string> {
  return new Map((layout?.routers ?? []).map((r) => [`${layout!.host}:${r.port}`, r.name]));
}

/** The local router of a configuration file: its client listener and client token. */
export function targetFromConfig(config: PraefectConfig, file: string): ClusterTarget {
  const listen = config.listenAddr ?? '127.0.0.1:2305';
  const host = listen.slice(0, listen.lastIndexOf(':'));
  // A router listening on every interface is reached on loopback.
  const address = host === '0.0.0.0' || host === '' || host === '[::]' ? `127.0.0.1${listen.slice(listen.lastIndexOf(':'))}` : listen;
  return { routers: [address], token: config.auth.token, names: new Map(), virtualStorage: config.virtualStorages[0]?.name ?? 'default', source: file };
}

/**
 * Errors worth asking the next router about: it is down, cut off, or without
 * quorum. A change that timed out may still apply, so it is not sent again.
 */
function tryNext(error: unknown, change: boolean): boolean {
  const code = (error as grpc.ServiceError).code;
  return code === grpc.status.UNAVAILABLE || (!change && code === grpc.status.DEADLINE_EXCEEDED);
}

export interface RouterCallOptions {
  readonly timeoutMs?: number;
  /** The call changes the cluster: never repeated after a timeout. */
  readonly change?: boolean;
}

/** Runs `call` against the first router that answers; the last error names every router tried. */
export async function withAnyRouter<T>(target: ClusterTarget, call: (client: AdminClient) => Promise<T>, options: RouterCallOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const failures: string[] = [];
  for (const address of target.routers) {
    const client = new AdminClient(address, { token: target.token, timeoutMs });
    try {
      return await call(client);
    } catch (error) {
      if (!tryNext(error, options.change === true)) throw new CommandFailedError(`router ${address}: ${describeError(error)}`);
      failures.push(`${address}: ${describeError(error)}`);
    } finally {
      client.close();
    }
  }
  throw new CommandFailedError(`no router answered (${failures.join('; ')})`);
}

/** "CODE: details" for gRPC errors, the message otherwise. */
export function describeError(error: unknown): string {
  const e = error as Partial<grpc.ServiceError>;
  if (typeof e.code === 'number' && typeof e.details === 'string') return `${grpc.status[e.code] ?? e.code}: ${e.details}`;
  return error instanceof Error ? error.message : String(error);
}

// Starts a storage node: the gRPC server with every service, the auth guard,
// and the metrics listener.
import { readFileSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { pino, type Logger } from 'pino';
import { guardService, type AuthObserver } from '../auth/index.js';
import { findProjectRoot, gitalyProtocol } from '../protocol/index.js';
import type { GitalyConfig } from './config.js';
import { voteFailpoint } from './failpoints.js';
import { KeyedMutex } from './keyed-mutex.js';
import { StorageLocator } from './locator.js';
import { observeService, type CallObserver } from './call-observer.js';
import { createNodeMetrics, serveMetrics, splitHostPort } from './metrics.js';
import type { NodeContext } from './node-context.js';
import { ReferenceTransactionVoting } from './reference-transaction-voting.js';
import { nodeServices, UNAUTHENTICATED_SERVICES } from './services/index.js';
import { TransactionalGitRunner, transactionalService } from './transactional-calls.js';
import { WriteLog } from './write-log.js';
import { writeLoggedService } from './write-logged-calls.js';

export interface RunningNode {
  /** host:port the gRPC server listens on (with the real port when 0 was asked). */
  address: string;
  port: number;
  /** host:port of the TLS listener, when configured. */
  tlsAddress: string | undefined;
  metricsPort: number | undefined;
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
}

export async function startGitalyNode(config: GitalyConfig, options: StartOptions = {}): Promise<RunningNode> {
  const log = options.logger ?? pino({ level: config.logging.level, name: 'gitaly' });
  const node = createNodeContext(config, log);
  await prepareStorages(node);
  const writeLog = openWriteLog(config, log);
  const failpoint = voteFailpoint();
  const voting = await ReferenceTransactionVoting.start({ locator: node.locator, log, ...(failpoint === undefined ? {} : { voteFailpoint: failpoint }) });
  const metrics = createNodeMetrics(node.git);
  const observeCall: CallObserver = (call) => {
    metrics.observeCall(call);
    logCall(log, call);
  };
  const server = new grpc.Server({
    'grpc.max_receive_message_length': config.grpc.max_receive_message_bytes,
    'grpc.max_send_message_length': config.grpc.max_send_message_bytes,
  });
  registerServices(server, node, voting, metrics.observeAuth, observeCall, writeLog);
  const { host, port } = splitHostPort(config.listen_addr);
  const boundPort = await bind(server, bracketed(host, port), grpc.ServerCredentials.createInsecure());
  const tlsAddress = await bindTls(server, config);
  const metricsServer = config.prometheus_listen_addr === undefined ? undefined : await serveMetrics(metrics.registry, config.prometheus_listen_addr);
  log.info(
    { address: `${host}:${boundPort}`, tlsAddress, metricsPort: metricsServer?.port, storages: node.locator.storageNames() },
    'storage node listening',
  );
  return {
    address: `${host}:${boundPort}`,
    port: boundPort,
    tlsAddress,
    metricsPort: metricsServer?.port,
    async close() {
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      await metricsServer?.close();
      await voting.close();
      if (writeLog !== undefined) {
        log.info({ file: writeLog.file, ...writeLog.stats() }, 'write log closed');
        writeLog.close();
      }
    },
  };
}

export function createNodeContext(config: GitalyConfig, log: Logger): NodeContext {
  return {
    config,
    locator: new StorageLocator(config.storage),
    git: new TransactionalGitRunner({
      binPath: config.git.bin_path,
      maxConcurrent: config.git.max_concurrent,
      maxQueued: config.git.max_queued,
      queueTimeoutMs: config.git.queue_timeout_ms,
      commandTimeoutMs: config.git.command_timeout_ms,
      maxBufferedOutputBytes: config.git.max_buffered_output_bytes,
    }),
    log,
    repoLocks: new KeyedMutex(),
    chunkBytes: config.grpc.stream_chunk_bytes,
    version: packageVersion(),
  };
}

// Every served method must be classified for routing, and every declared
// service must be implemented: a gap is a startup error, not a runtime one.
function registerServices(
  server: grpc.Server,
  node: NodeContext,
  voting: ReferenceTransactionVoting,
  observeAuth: AuthObserver,
  observeCall: CallObserver,
  writeLog: WriteLog | undefined,
): void {
  const protocol = gitalyProtocol();
  const implementations = nodeServices(node);
  const served: string[] = [];
  for (const [name, plain] of implementations) {
    const definition = protocol.serverServices.get(name);
    if (definition === undefined) throw new Error(`no .proto declares service ${name}`);
    const transactional = transactionalService(definition, plain, voting, protocol.registry);
    const implementation = writeLog === undefined ? transactional : writeLoggedService(definition, transactional, protocol.registry, writeLog);
    for (const [method, info] of Object.entries(definition)) {
      if (implementation[method] === undefined) throw new Error(`${name}/${method} is declared but not implemented`);
      served.push(info.path);
    }
    const guarded = UNAUTHENTICATED_SERVICES.has(name)
      ? implementation
      : guardService(definition, implementation, {
          token: node.config.auth.token,
          transitioning: node.config.auth.transitioning,
          observe: observeAuth,
        });
    server.addService(definition, observeService(definition, guarded, observeCall));
  }
  protocol.registry.assertClassified(served);
}

function openWriteLog(config: GitalyConfig, log: Logger): WriteLog | undefined {
  const audit = config.audit;
  if (audit === undefined) return undefined;
  let reported = 0;
  return WriteLog.open(audit.write_log, audit.write_log_max_bytes, (error) => {
    // The first failures say why; the rest only count (stats) so a full disk cannot flood the log.
    if (reported++ < 10) log.error({ err: error, file: audit.write_log }, 'write log line lost');
  });
}

// Failures the client caused are routine; INTERNAL and friends are ours.
const SERVER_FAULTS = new Set([grpc.status.INTERNAL, grpc.status.UNKNOWN, grpc.status.DATA_LOSS, grpc.status.UNAVAILABLE]);

function logCall(log: Logger, call: { path: string; code: grpc.status; durationSec: number; details?: string }): void {
  const fields = { method: call.path, code: grpc.status[call.code], durationSec: call.durationSec, error: call.details };
  if (SERVER_FAULTS.has(call.code)) log.error(fields, 'call failed');
  else log.debug(fields, 'call finished');
}

function bind(server: grpc.Server, address: string, credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (error, port) => (error ? reject(error) : resolve(port)));
  });
}

async function bindTls(server: grpc.Server, config: GitalyConfig): Promise<string | undefined> {
  if (config.tls_listen_addr === undefined || config.tls === undefined) return undefined;
  const credentials = grpc.ServerCredentials.createSsl(
    null,
    [{ cert_chain: readFileSync(config.tls.certificate_path), private_key: readFileSync(config.tls.key_path) }],
    false,
  );
  const { host, port } = splitHostPort(config.tls_listen_addr);
  return `${host}:${await bind(server, bracketed(host, port), credentials)}`;
}

function bracketed(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

// Leftovers of a crash (half-created repositories, removed ones not yet
// deleted) live in +gitaly/tmp and are cleared at startup.
async function prepareStorages(node: NodeContext): Promise<void> {
  for (const name of node.locator.storageNames()) {
    const tmp = node.locator.tempDir(name);
    await mkdir(tmp, { recursive: true });
    for (const entry of await readdir(tmp)) await rm(path.join(tmp, entry), { recursive: true, force: true });
  }
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(path.join(findProjectRoot(), 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

import * as grpc from '@grpc/grpc-js';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type pino from 'pino';
import { GrpcTransport, RaftDriver, raftErrorStatus, raftServerOptions, type NodeId } from '../raft/index.js';
import { encodeKvCommand, LevelKvStateMachine, LevelLogStore } from '../storage/index.js';
import { raftKvServiceDefinition } from './kv-proto.js';

export interface KvNodeOptions {
  readonly id: NodeId;
  /** Every founding member's id and address, this node's included. */
  readonly members: ReadonlyMap<NodeId, string>;
  readonly dataDir: string;
  readonly internalToken: string;
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly logger: pino.Logger;
}

const MAX_KEY_BYTES = 1024;
const MAX_VALUE_BYTES = 64 * 1024;

/** One member of the demo key/value group: Raft over LevelDB, serving RaftKv and Raft traffic on one port. */
export class KvNode {
  private constructor(
    private readonly server: grpc.Server,
    readonly driver: RaftDriver,
    private readonly transport: GrpcTransport,
    private readonly stateMachine: LevelKvStateMachine,
  ) {}

  static async start(options: KvNodeOptions): Promise<KvNode> {
    const address = options.members.get(options.id);
    if (!address) throw new Error(`members has no address for this node's id ${options.id}`);
    mkdirSync(options.dataDir, { recursive: true });
    const store = await LevelLogStore.open(path.join(options.dataDir, 'raft-log'));
    const stateMachine = await LevelKvStateMachine.open(path.join(options.dataDir, 'state'));
    const transport = new GrpcTransport({ selfId: options.id, peers: options.members, internalToken: options.internalToken, logger: options.logger });
    const driver = new RaftDriver({
      id: options.id,
      store,
      stateMachine,
      transport,
      bootstrapVoters: [...options.members.keys()],
      tickMs: options.tickMs,
      raft: { electionTicks: options.electionTicks, heartbeatTicks: 1 },
      onSoftState: (state, term) => options.logger.info({ leader: state.leader, role: state.role, term }, 'raft role changed'),
      onError: (error) => options.logger.fatal({ err: error }, 'raft node stopped on an internal error'),
    });
    const server = new grpc.Server(raftServerOptions());
    transport.addToServer(server);
    const node = new KvNode(server, driver, transport, stateMachine);
    server.addService(raftKvServiceDefinition(), node.handlers());
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error) => (error ? reject(error) : resolve())),
    );
    await driver.start();
    return node;
  }

  private handlers(): grpc.UntypedServiceImplementation {
    return {
      Put: (call: grpc.ServerUnaryCall<{ key: string; value: string }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const { key, value } = call.request;
        const invalid = checkKey(key) ?? (Buffer.byteLength(value) > MAX_VALUE_BYTES ? `value is over ${MAX_VALUE_BYTES} bytes` : undefined);
        if (invalid) return callback({ code: grpc.status.INVALID_ARGUMENT, details: invalid });
        this.driver.propose(encodeKvCommand({ op: 'put', key, value })).then(
          (previous) => callback(null, { had_previous: previous !== undefined, previous: (previous as string | undefined) ?? '' }),
          (error: unknown) => callback(raftErrorStatus(error)),
        );
      },
      Get: (call: grpc.ServerUnaryCall<{ key: string; stale_ok: boolean }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const { key, stale_ok: staleOk } = call.request;
        const invalid = checkKey(key);
        if (invalid) return callback({ code: grpc.status.INVALID_ARGUMENT, details: invalid });
        const ready = staleOk ? Promise.resolve(this.stateMachine.appliedIndex()) : this.driver.linearizableRead();
        ready
          .then(async (appliedIndex) => {
            const value = await this.stateMachine.get(key);
            callback(null, { found: value !== undefined, value: value ?? '', applied_index: appliedIndex });
          })
          .catch((error: unknown) => callback(raftErrorStatus(error)));
      },
      Status: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const s = this.driver.status();
        callback(null, {
          id: s.id,
          term: s.term,
          leader: s.lead,
          role: s.role,
          commit: s.commit,
          applied: s.applied,
          last_index: s.lastIndex,
          voters: [...s.confState.voters],
          learners: [...s.confState.learners],
        });
      },
    };
  }

  /**
   * Stops Raft first, then ends the peers' inbound Raft streams: a graceful
   * server shutdown would otherwise wait for those long-lived streams. Client
   * calls still running get `shutdownGraceMs`, then are cancelled.
   */
  async stop(shutdownGraceMs = 2_000): Promise<void> {
    await this.driver.stop();
    await this.transport.close();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => this.server.forceShutdown(), shutdownGraceMs);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    await this.stateMachine.close();
  }
}

function checkKey(key: string): string | undefined {
  if (key.length === 0) return 'key is empty';
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) return `key is over ${MAX_KEY_BYTES} bytes`;
  return undefined;
}

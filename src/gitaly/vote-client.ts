// The storage node's client of the router's RefTransaction service: casts
// votes with the address and token the call's metadata gave. Channels are
// kept per router address and token, a bounded number of them.
import * as grpc from '@grpc/grpc-js';
import { AbortedError, UnavailableError } from './errors.js';
import { gitalyClient } from './gitaly-client.js';
import { voteTarget, type TransactionContext } from './transaction-metadata.js';

export type VoteVerdict = 'commit' | 'abort' | 'stop';
export type VotePhaseName = 'UNKNOWN_PHASE' | 'PREPARING_PHASE' | 'PREPARED_PHASE' | 'COMMITTED_PHASE' | 'SYNCHRONIZED_PHASE';

export interface VoteRepository {
  storage_name: string;
  relative_path: string;
}

export interface VoteClientOptions {
  /** Bound on one vote call; above the router's own vote timeout, so the router's answer normally comes first. */
  timeoutMs?: number;
  /** Routers this node keeps channels to. */
  maxChannels?: number;
}

type UnaryFn = (request: unknown, metadata: grpc.Metadata, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, response?: { state?: string }) => void) => void;

const VERDICTS: Readonly<Record<string, VoteVerdict>> = { COMMIT: 'commit', ABORT: 'abort', STOP: 'stop' };

/** The router refused or could not take the vote: the update must not go ahead. */
export class VoteFailedError extends AbortedError {
  constructor(
    message: string,
    readonly grpcCode: grpc.status | undefined,
  ) {
    super(message);
  }
}

export class VoteClient {
  private readonly clients = new Map<string, grpc.Client>();
  private readonly timeoutMs: number;
  private readonly maxChannels: number;
  private closed = false;

  constructor(options: VoteClientOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.maxChannels = options.maxChannels ?? 16;
  }

  async vote(context: TransactionContext, repository: VoteRepository | undefined, hash: Buffer, phase: VotePhaseName): Promise<VoteVerdict> {
    const request = {
      repository: repository ?? null,
      transaction_id: context.transaction.id,
      node: context.transaction.node,
      reference_updates_hash: hash,
      phase,
    };
    const response = await this.call(context, 'VoteTransaction', request);
    const verdict = VERDICTS[response.state ?? 'COMMIT'];
    if (verdict === undefined) throw new VoteFailedError(`the router answered an unknown vote state ${String(response.state)}`, undefined);
    return verdict;
  }

  async stop(context: TransactionContext, repository?: VoteRepository): Promise<void> {
    await this.call(context, 'StopTransaction', { repository: repository ?? null, transaction_id: context.transaction.id });
  }

  close(): void {
    this.closed = true;
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }

  private call(context: TransactionContext, method: 'VoteTransaction' | 'StopTransaction', request: unknown): Promise<{ state?: string }> {
    if (this.closed) return Promise.reject(new UnavailableError('the vote client is closed'));
    const client = this.clientFor(context);
    const fn = (client as unknown as Record<string, UnaryFn>)[method] as UnaryFn;
    return new Promise((resolve, reject) => {
      fn.call(client, request, new grpc.Metadata(), { deadline: Date.now() + this.timeoutMs }, (error, response) => {
        if (error !== null) reject(new VoteFailedError(`${method} with the router failed: ${error.details || error.message}`, error.code));
        else resolve(response ?? {});
      });
    });
  }

  private clientFor(context: TransactionContext): grpc.Client {
    const target = voteTarget(context.praefect);
    const key = `${target}\0${context.praefect.token}`;
    const found = this.clients.get(key);
    if (found !== undefined) return found;
    const client = gitalyClient('gitaly.RefTransaction', target, { token: context.praefect.token });
    this.clients.set(key, client);
    while (this.clients.size > this.maxChannels) {
      const [oldestKey, oldest] = this.clients.entries().next().value as [string, grpc.Client];
      this.clients.delete(oldestKey);
      oldest.close();
    }
    return client;
  }
}

// RefTransaction for the router's own transports: bytes in, bytes out. The
// router registers every method of the registry and answers the services
// marked `intercepted` itself (src/proxy/server-scoped.ts); these answers
// plug in there, on the grpc-js and the HTTP/2 transport alike. Failures
// reject with TransactionError; errorStatus() gives their gRPC status.
import type protobuf from 'protobufjs';
import { gitalyProtocol, TO_OBJECT_OPTIONS } from '../protocol/index.js';
import { InvalidVoteError } from './errors.js';
import { castVote, type StopRequest, type VoteRequest } from './ref-transaction-service.js';
import type { TransactionManager } from './transaction-manager.js';

export const VOTE_TRANSACTION_PATH = '/gitaly.RefTransaction/VoteTransaction';
export const STOP_TRANSACTION_PATH = '/gitaly.RefTransaction/StopTransaction';

export class RefTransactionAnswers {
  private readonly voteRequest: protobuf.Type;
  private readonly voteResponse: protobuf.Type;
  private readonly stopRequest: protobuf.Type;
  private readonly stopResponse: protobuf.Type;

  constructor(
    private readonly manager: TransactionManager,
    root: protobuf.Root = gitalyProtocol().root,
  ) {
    this.voteRequest = root.lookupType('gitaly.VoteTransactionRequest');
    this.voteResponse = root.lookupType('gitaly.VoteTransactionResponse');
    this.stopRequest = root.lookupType('gitaly.StopTransactionRequest');
    this.stopResponse = root.lookupType('gitaly.StopTransactionResponse');
  }

  handles(path: string): boolean {
    return path === VOTE_TRANSACTION_PATH || path === STOP_TRANSACTION_PATH;
  }

  /**
   * The encoded response to one request. `signal`: the client's call ended;
   * a vote still waiting is then withdrawn. Not bounded by any fan-out
   * timeout: a vote waits up to the manager's vote timeout.
   */
  async answer(path: string, request: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    if (path === VOTE_TRANSACTION_PATH) {
      const decoded = decode<VoteRequest>(this.voteRequest, request);
      const response = await castVote(this.manager, decoded, signal);
      return this.voteResponse.encode(this.voteResponse.fromObject(response)).finish();
    }
    if (path === STOP_TRANSACTION_PATH) {
      const decoded = decode<StopRequest>(this.stopRequest, request);
      this.manager.stop(decoded.transaction_id);
      return this.stopResponse.encode(this.stopResponse.fromObject({})).finish();
    }
    throw new Error(`RefTransactionAnswers does not answer ${path}`);
  }
}

function decode<T>(type: protobuf.Type, bytes: Uint8Array): T {
  try {
    return type.toObject(type.decode(bytes), TO_OBJECT_OPTIONS) as T;
  } catch (error) {
    throw new InvalidVoteError('malformed_request', `malformed ${type.name}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

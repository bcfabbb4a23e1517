// The call metadata by which a router makes a storage node part of a
// reference transaction, in Gitaly's format (base64 of JSON):
//   gitaly-reference-transaction: {"id": 123, "node": "gitaly-1", "primary": true}
//   gitaly-praefect-server: {"listen_addr": "tcp://host:port", "tls_listen_addr": "",
//                            "socket_path": "", "token": "<secret>"}
// The id is a JSON number; ours stay below 2^53 so every parser reads them exactly.
import type * as grpc from '@grpc/grpc-js';
import { InvalidArgumentError } from './errors.js';

export const TRANSACTION_METADATA_KEY = 'gitaly-reference-transaction';
export const PRAEFECT_SERVER_METADATA_KEY = 'gitaly-praefect-server';
/**
 * Ours, not Gitaly's: the router's clock reading (unix seconds) for a
 * transaction. A node that would otherwise take its own time for an object
 * it creates (a commit's date) takes this one, so every replica creates the
 * same object and votes the same hash.
 */
export const TRANSACTION_TIME_METADATA_KEY = 'praefect-transaction-time';

export interface TransactionInfo {
  id: number;
  /** The name this node votes under. */
  node: string;
  primary: boolean;
}

export interface PraefectServerInfo {
  /** "tcp://host:port" (or plain host:port) of the router's cleartext listener. */
  listenAddr: string;
  tlsListenAddr: string;
  /** "unix:///path" or a plain path. */
  socketPath: string;
  /** The router's secret: votes carry a v2 token made from it. */
  token: string;
}

/** What a node needs to vote: the transaction and the router's address. */
export interface TransactionContext {
  transaction: TransactionInfo;
  praefect: PraefectServerInfo;
}

export function encodeTransactionMetadata(transaction: TransactionInfo): string {
  return base64Json({ id: transaction.id, node: transaction.node, primary: transaction.primary });
}

export function encodePraefectServerMetadata(server: Partial<PraefectServerInfo> & { token: string }): string {
  return base64Json({
    listen_addr: server.listenAddr ?? '',
    tls_listen_addr: server.tlsListenAddr ?? '',
    socket_path: server.socketPath ?? '',
    token: server.token,
  });
}

/** Sets both entries on outgoing metadata (the router's fan-out calls this per node). */
export function withTransaction(metadata: grpc.Metadata, transaction: TransactionInfo, praefect: Partial<PraefectServerInfo> & { token: string }): grpc.Metadata {
  metadata.set(TRANSACTION_METADATA_KEY, encodeTransactionMetadata(transaction));
  metadata.set(PRAEFECT_SERVER_METADATA_KEY, encodePraefectServerMetadata(praefect));
  return metadata;
}

/** The transaction's time, when the call belongs to a transaction and carries one; malformed values are refused naming the key. */
export function transactionTimeSec(metadata: grpc.Metadata): number | undefined {
  const raw = metadata.get(TRANSACTION_TIME_METADATA_KEY)[0];
  if (raw === undefined || metadata.get(TRANSACTION_METADATA_KEY).length === 0) return undefined;
  const seconds = Number(raw.toString());
  if (!Number.isSafeInteger(seconds) || seconds < 0) throw new InvalidArgumentError(`${TRANSACTION_TIME_METADATA_KEY}: expected unix seconds, got "${raw.toString()}"`);
  return seconds;
}

/**
 * The call's transaction, or undefined when it carries none (then the node
 * votes on nothing). A transaction without a router to vote with is an error.
 */
export function parseTransactionContext(metadata: grpc.Metadata): TransactionContext | undefined {
  const rawTransaction = metadata.get(TRANSACTION_METADATA_KEY)[0];
  if (rawTransaction === undefined) return undefined;
  const transaction = parseTransaction(decodeJson(TRANSACTION_METADATA_KEY, rawTransaction));
  const rawServer = metadata.get(PRAEFECT_SERVER_METADATA_KEY)[0];
  if (rawServer === undefined) throw new InvalidArgumentError(`${TRANSACTION_METADATA_KEY} is set but ${PRAEFECT_SERVER_METADATA_KEY} is missing`);
  const praefect = parsePraefectServer(decodeJson(PRAEFECT_SERVER_METADATA_KEY, rawServer));
  return { transaction, praefect };
}

/** The grpc-js target a node votes through: the cleartext listener, else the unix socket. */
export function voteTarget(praefect: PraefectServerInfo): string {
  if (praefect.listenAddr.length > 0) return praefect.listenAddr.replace(/^tcp:\/\//, '');
  if (praefect.socketPath.length > 0) return `unix:${praefect.socketPath.replace(/^unix:\/\//, '').replace(/^unix:/, '')}`;
  throw new InvalidArgumentError(`${PRAEFECT_SERVER_METADATA_KEY} names only a TLS listener; voting over TLS is not supported`);
}

function parseTransaction(value: Record<string, unknown>): TransactionInfo {
  const { id, node, primary } = value;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
    throw new InvalidArgumentError(`${TRANSACTION_METADATA_KEY}: id must be an integer below 2^53, got ${String(id)}`);
  }
  if (typeof node !== 'string' || node.length === 0) throw new InvalidArgumentError(`${TRANSACTION_METADATA_KEY}: node is missing`);
  if (primary !== undefined && typeof primary !== 'boolean') throw new InvalidArgumentError(`${TRANSACTION_METADATA_KEY}: primary must be a boolean`);
  return { id, node, primary: primary === true };
}

function parsePraefectServer(value: Record<string, unknown>): PraefectServerInfo {
  const text = (key: string): string => {
    const field = value[key];
    if (field === undefined || field === null) return '';
    if (typeof field !== 'string') throw new InvalidArgumentError(`${PRAEFECT_SERVER_METADATA_KEY}: ${key} must be a string`);
    return field;
  };
  const info = { listenAddr: text('listen_addr'), tlsListenAddr: text('tls_listen_addr'), socketPath: text('socket_path'), token: text('token') };
  if (info.listenAddr.length === 0 && info.tlsListenAddr.length === 0 && info.socketPath.length === 0) {
    throw new InvalidArgumentError(`${PRAEFECT_SERVER_METADATA_KEY}: no address to reach the router`);
  }
  return info;
}

function decodeJson(key: string, raw: grpc.MetadataValue): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw.toString(), 'base64').toString('utf8'));
  } catch {
    throw new InvalidArgumentError(`${key} metadata is not base64-encoded JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidArgumentError(`${key} metadata is not a JSON object`);
  return parsed as Record<string, unknown>;
}

function base64Json(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64');
}

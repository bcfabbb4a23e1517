// The seam between forwarding and routing. The forwarder knows how to move
// bytes; a Router knows where they go. Routers are built elsewhere (cluster
// state, elections, generations); tests use static ones.
import type * as grpc from '@grpc/grpc-js';
import type { MethodInfo } from '../protocol/index.js';

/** A repository as the client named it: a virtual storage and a relative path. */
export interface RepositoryRef {
  storage_name: string;
  relative_path: string;
}

/** Where a repository lives on the chosen storage node. */
export interface RepositoryRewrite {
  storageName: string;
  relativePath: string;
}

export interface RouteRequest {
  method: MethodInfo;
  /** The client's metadata, as received (authorization included). Read only. */
  metadata: grpc.Metadata;
  /** For scope `repository`: the target repository, validated. */
  repository?: RepositoryRef;
  /** A second repository the call names (e.g. ReplicateRepository's source), validated. */
  additionalRepository?: RepositoryRef;
  /** For scope `storage`: the storage the request names. */
  storage?: string;
}

export interface RouteTarget {
  /** host:port, tcp://host:port or unix:/path of the storage node. */
  address: string;
  /** The node's v2 token secret; absent sends no authorization to the node. */
  token?: string;
}

export interface Route {
  target: RouteTarget;
  rewrite?: RepositoryRewrite;
  additionalRewrite?: RepositoryRewrite;
  /** For scope `storage`: the physical storage name. */
  storageRewrite?: string;
  /** Extra metadata for the node (e.g. gitaly-servers, transaction details). */
  metadata?: Readonly<Record<string, string>>;
  /** Fields the router adds to the call's log line (e.g. the id of the write). */
  logFields?: Readonly<Record<string, string>>;
  /** Added to the response headers the client gets (e.g. a read's consistency). */
  responseMetadata?: Readonly<Record<string, string>>;
  /** Replicas that run the same call at once (reference transactions, DESIGN §10). */
  fanOut?: FanOut;
  /**
   * Called exactly once, with the status the node ended the call with, or
   * with the local status when the call ended before the node answered
   * (cancelled, deadline). For mutators and maintenance calls the client's
   * response waits until the returned promise settles; a rejection with a
   * ProxyError replaces the response with that error. For accessors it runs
   * after the client has its answer, and a rejection is only reported.
   * With fanOut, it runs once every secondary has ended too (or was cut off
   * after fanOut.settleMs), and `secondaries` holds each one's status.
   */
  onFinish?(status: grpc.StatusObject, secondaries?: ReadonlyMap<string, grpc.StatusObject>): void | Promise<void>;
}

/** A replica that takes a copy of the client's request stream; its responses are dropped. */
export interface SecondaryRoute {
  /** The storage's name, the key of its status in onFinish. */
  name: string;
  target: RouteTarget;
  rewrite?: RepositoryRewrite;
  additionalRewrite?: RepositoryRewrite;
  metadata?: Readonly<Record<string, string>>;
}

export interface FanOut {
  /** The primary's name in onNodeEnd. */
  primary: string;
  secondaries: readonly SecondaryRoute[];
  /** Each node's call as it ends, the primary's included; a transport that cannot fan out reports every secondary failed before the call starts. */
  onNodeEnd?(name: string, status: grpc.StatusObject): void;
  /** How long secondaries may run after the primary ended before they are cancelled. */
  settleMs: number;
  /** Request bytes a secondary may have waiting to be sent; past it, it is cancelled rather than slowing the client. */
  maxBufferedBytes: number;
}

/** Decides a route per call. May reject with a RoutingError (see errors.ts). */
export type Router = (request: RouteRequest) => Promise<Route>;

/** One storage node, for server-scoped calls that fan out. */
export interface NodeTarget {
  address: string;
  token?: string;
  /**
   * Storages of the node to report, each under its virtual storage name.
   * Absent: every storage the node reports, under its own name.
   */
  storages?: ReadonlyArray<{ storage: string; virtualStorage: string }>;
}

/** The nodes that server-scoped calls (ServerInfo, DiskStatistics) fan out to. */
export type NodeLister = () => Promise<readonly NodeTarget[]>;

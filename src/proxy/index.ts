// The router's forwarding layer: a gRPC front that moves Gitaly calls to
// storage nodes byte for byte, asking a Router where each call goes. Two
// fronts share one seam: grpc-js (startForwardingServer, TLS-capable) and a
// frame-level node:http2 one (startH2ForwardingServer, cheaper per call).
export type { FanOut, NodeLister, NodeTarget, RepositoryRef, RepositoryRewrite, Route, RouteRequest, Router, RouteTarget, SecondaryRoute } from './route.js';
export type { LocalAnswerer } from './server-scoped.js';
export {
  InvalidRequestError,
  LocalAnswerError,
  MessageTooLargeError,
  OverloadedError,
  ProxyError,
  RoutingError,
  UnsupportedEncodingError,
  type ProxyErrorCode,
  type RoutingErrorCode,
} from './errors.js';
export { grpcStatusOf, statusOfError } from './error-status.js';
export { createForwarder, startForwardingServer, stopServer, type Forwarder, type ForwardingListener, type RunningForwarder } from './forwarding-server.js';
export { startH2ForwardingServer } from './h2-forwarding-server.js';
export { DEFAULT_LIMITS, type ForwarderLimits, type ForwarderOptions } from './forwarder-options.js';
export { FirstMessageCodec, type RequestFacts } from './first-message.js';
export { validateRelativePath, validateRepository, validateStorageName } from './request-validation.js';
export { grpcTarget } from './channel-pool.js';

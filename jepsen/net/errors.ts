// Errors of the network-fault layer. Each has a stable code so the harness
// can tell a refused fault (bad request) from a host that cannot run it.

export abstract class NetFaultError extends Error {
  abstract readonly code: string;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A node name was used before `addNode`, or twice. */
export class UnknownNodeError extends NetFaultError {
  readonly code = 'NET_UNKNOWN_NODE';
  constructor(readonly node: string) {
    super(`unknown node "${node}"`);
  }
}

export class DuplicateNodeError extends NetFaultError {
  readonly code = 'NET_DUPLICATE_NODE';
  constructor(readonly node: string) {
    super(`node "${node}" is already registered`);
  }
}

/** The destination of a link has no listen address, so nothing can connect to it. */
export class NotListeningError extends NetFaultError {
  readonly code = 'NET_NOT_LISTENING';
  constructor(readonly node: string) {
    super(`node "${node}" has no listen address; it can only be a link's source`);
  }
}

/** A fault description is malformed (empty group, node in two groups, too few nodes for a shape...). */
export class InvalidFaultError extends NetFaultError {
  readonly code = 'NET_INVALID_FAULT';
}

/** This backend cannot carry out this fault (e.g. delay under netns without netem). */
export class UnsupportedFaultError extends NetFaultError {
  readonly code = 'NET_UNSUPPORTED_FAULT';
}

/** The proxy is closed or not started. */
export class ProxyStateError extends NetFaultError {
  readonly code = 'NET_PROXY_STATE';
}

/** The netns backend cannot run on this host; `missing` names each absent requirement. */
export class NetnsUnavailableError extends NetFaultError {
  readonly code = 'NET_NETNS_UNAVAILABLE';
  constructor(readonly missing: readonly string[]) {
    super(`the netns backend cannot run here: ${missing.join('; ')}`);
  }
}

/** A host command (ip ...) failed; carries argv and stderr for the operator. */
export class HostCommandError extends NetFaultError {
  readonly code = 'NET_HOST_COMMAND';
  constructor(readonly argv: readonly string[], readonly exitCode: number | null, readonly stderr: string) {
    super(`${argv.join(' ')} failed (exit ${exitCode ?? 'signal'}): ${stderr.trim()}`);
  }
}

// Gitaly's wire protocol as this project speaks it: our .proto files, the
// grpc-js definitions built from them, and the routing facts per method.
import type * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { serviceDefinition } from './grpc-definitions.js';
import { listServices, loadGitalyRoot, qualifiedName } from './load-protos.js';
import { buildMethodRegistry, type MethodRegistry } from './method-registry.js';

export { findProjectRoot, gitalyProtoDir } from './proto-dir.js';
export { loadGitalyRoot, listServices, qualifiedName } from './load-protos.js';
export { isMalformed, markMalformed, messageCodec, TO_OBJECT_OPTIONS, type MalformedMessage, type MessageCodec } from './codec.js';
export { serviceDefinition, type DefinitionOptions } from './grpc-definitions.js';
export {
  buildMethodRegistry,
  MethodRegistry,
  UnclassifiedMethodError,
  type ClassificationProblem,
  type FieldPath,
  type MethodInfo,
  type Operation,
  type Scope,
  type StreamingKind,
} from './method-registry.js';
export { getAtPath, setAtPath } from './repository-field.js';

export interface GitalyProtocol {
  root: protobuf.Root;
  registry: MethodRegistry;
  /** By fully qualified service name, e.g. "gitaly.RefService". */
  services: ReadonlyMap<string, grpc.ServiceDefinition>;
  /** The same, for servers: undecodable requests arrive as MalformedMessage. */
  serverServices: ReadonlyMap<string, grpc.ServiceDefinition>;
}

let loaded: GitalyProtocol | undefined;

/** The protocol from proto/gitaly, loaded once per process. */
export function gitalyProtocol(): GitalyProtocol {
  if (loaded !== undefined) return loaded;
  const root = loadGitalyRoot();
  const all = listServices(root);
  const services = new Map(all.map((s) => [qualifiedName(s), serviceDefinition(s)]));
  const serverServices = new Map(all.map((s) => [qualifiedName(s), serviceDefinition(s, { malformedRequests: 'mark' })]));
  loaded = { root, registry: buildMethodRegistry(root), services, serverServices };
  return loaded;
}

/** A service definition by qualified name; throws if no .proto declares it. */
export function requireService(name: string, side: 'client' | 'server' = 'client'): grpc.ServiceDefinition {
  const protocol = gitalyProtocol();
  const definition = (side === 'server' ? protocol.serverServices : protocol.services).get(name);
  if (definition === undefined) throw new Error(`no service ${name} in proto/gitaly`);
  return definition;
}

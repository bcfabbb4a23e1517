// The routing facts of every method, read from the annotations in our .proto
// files (lint.proto): what it does, what it addresses, how it streams, and
// where in the request the repository sits. The router builds its routing
// table from this and refuses to serve a method it cannot classify.
import protobuf from 'protobufjs';
import { listServices, qualifiedName } from './load-protos.js';

export type Operation = 'mutator' | 'accessor' | 'maintenance';
/** `server`: the service is intercepted; the router answers it itself. */
export type Scope = 'repository' | 'storage' | 'server';
export type StreamingKind = 'unary' | 'clientStream' | 'serverStream' | 'bidi';

/** A field reached from the request message, by names and by field numbers. */
export interface FieldPath {
  names: readonly string[];
  numbers: readonly number[];
}

export interface MethodInfo {
  /** "/gitaly.RefService/FindBranch", as on the wire. */
  path: string;
  service: string;
  method: string;
  operation: Operation;
  scope: Scope;
  streaming: StreamingKind;
  requestType: string;
  responseType: string;
  /** Where the repository is, for scope `repository`. */
  targetRepository?: FieldPath;
  additionalRepository?: FieldPath;
  /** Where the storage name is, for scope `storage`. */
  storage?: FieldPath;
}

export interface ClassificationProblem {
  path: string;
  reason: string;
}

export class UnclassifiedMethodError extends Error {
  constructor(readonly problems: readonly ClassificationProblem[]) {
    super(`unclassified methods: ${problems.map((p) => `${p.path} (${p.reason})`).join('; ')}`);
    this.name = 'UnclassifiedMethodError';
  }
}

export class MethodRegistry {
  private readonly byPath: ReadonlyMap<string, MethodInfo>;

  constructor(methods: readonly MethodInfo[], readonly problems: readonly ClassificationProblem[]) {
    this.byPath = new Map(methods.map((m) => [m.path, m]));
  }

  get(path: string): MethodInfo | undefined {
    return this.byPath.get(path);
  }

  all(): MethodInfo[] {
    return [...this.byPath.values()];
  }

  /** Throws unless every path is known and classified: the router's startup check. */
  assertClassified(paths: Iterable<string>): void {
    const problems: ClassificationProblem[] = [];
    for (const path of paths) {
      const problem = this.problems.find((p) => p.path === path);
      if (problem !== undefined) problems.push(problem);
      else if (!this.byPath.has(path)) problems.push({ path, reason: 'not in any loaded .proto file' });
    }
    if (problems.length > 0) throw new UnclassifiedMethodError(problems);
  }
}

export function buildMethodRegistry(root: protobuf.Root): MethodRegistry {
  const methods: MethodInfo[] = [];
  const problems: ClassificationProblem[] = [];
  for (const service of listServices(root)) {
    for (const method of service.methodsArray) {
      const result = classify(service, method);
      if ('reason' in result) problems.push(result);
      else methods.push(result);
    }
  }
  return new MethodRegistry(methods, problems);
}

function classify(service: protobuf.Service, method: protobuf.Method): MethodInfo | ClassificationProblem {
  method.resolve();
  const path = `/${qualifiedName(service)}/${method.name}`;
  const opType = findOption(method.parsedOptions, 'op_type') as { op?: string; scope_level?: string } | undefined;
  const operation = parseOperation(opType?.op);
  if (operation === undefined) return { path, reason: `op_type.op is ${opType?.op ?? 'missing'}` };
  const request = method.resolvedRequestType as protobuf.Type;
  const base = {
    path,
    service: qualifiedName(service),
    method: method.name,
    operation,
    streaming: streamingKind(method),
    requestType: qualifiedName(request),
    responseType: qualifiedName(method.resolvedResponseType as protobuf.Type),
  };
  if (findOption(service.parsedOptions, 'intercepted') === true) return { ...base, scope: 'server' };
  if (opType?.scope_level === 'STORAGE') return classifyStorage(base, request);
  if (opType?.scope_level !== undefined && opType.scope_level !== 'REPOSITORY') {
    return { path, reason: `unknown scope_level ${opType.scope_level}` };
  }
  return classifyRepository(base, request);
}

type BaseInfo = Omit<MethodInfo, 'scope'>;

function classifyRepository(base: BaseInfo, request: protobuf.Type): MethodInfo | ClassificationProblem {
  const targets = findAnnotatedFields(request, 'target_repository');
  if (targets.length !== 1) {
    return { path: base.path, reason: `expected one target_repository field in ${base.requestType}, found ${targets.length}` };
  }
  const additional = findAnnotatedFields(request, 'additional_repository');
  if (additional.length > 1) {
    return { path: base.path, reason: `more than one additional_repository field in ${base.requestType}` };
  }
  const info: MethodInfo = { ...base, scope: 'repository', targetRepository: targets[0] };
  if (additional[0] !== undefined) info.additionalRepository = additional[0];
  return info;
}

function classifyStorage(base: BaseInfo, request: protobuf.Type): MethodInfo | ClassificationProblem {
  const storages = findAnnotatedFields(request, 'storage');
  if (storages.length !== 1) {
    return { path: base.path, reason: `expected one storage field in ${base.requestType}, found ${storages.length}` };
  }
  return { ...base, scope: 'storage', storage: storages[0] };
}

function streamingKind(method: protobuf.Method): StreamingKind {
  const client = method.requestStream === true;
  const server = method.responseStream === true;
  if (client && server) return 'bidi';
  if (client) return 'clientStream';
  return server ? 'serverStream' : 'unary';
}

function parseOperation(op: string | undefined): Operation | undefined {
  switch (op) {
    case 'MUTATOR':
      return 'mutator';
    case 'ACCESSOR':
      return 'accessor';
    case 'MAINTENANCE':
      return 'maintenance';
    default:
      return undefined;
  }
}

// Nested messages are searched too: UserCommitFiles keeps its repository in
// header.repository. The depth bound stops recursive message types.
const MAX_FIELD_DEPTH = 4;

function findAnnotatedFields(type: protobuf.Type, option: string, depth = 0): FieldPath[] {
  const found: FieldPath[] = [];
  for (const field of type.fieldsArray) {
    field.resolve();
    if (findOption(field.parsedOptions, option) === true) {
      found.push({ names: [field.name], numbers: [field.id] });
      continue;
    }
    const nested = field.resolvedType;
    if (nested instanceof protobuf.Type && depth + 1 < MAX_FIELD_DEPTH && !field.repeated) {
      for (const inner of findAnnotatedFields(nested, option, depth + 1)) {
        found.push({ names: [field.name, ...inner.names], numbers: [field.id, ...inner.numbers] });
      }
    }
  }
  return found;
}

// protobufjs keeps custom options under the name as written: "(op_type)"
// inside package gitaly, "(gitaly.op_type)" from another package.
function findOption(parsed: ReadonlyArray<Record<string, unknown>> | undefined | null, name: string): unknown {
  for (const entry of parsed ?? []) {
    for (const [key, value] of Object.entries(entry)) {
      if (key === `(${name})` || key === `(gitaly.${name})` || key === `(.gitaly.${name})`) return value;
    }
  }
  return undefined;
}

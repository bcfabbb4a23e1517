// The only request message the router looks into: the first. It reads the
// repositories (or the storage) the registry's field paths point at, and
// writes the route's physical names back, touching no other bytes.
import type protobuf from 'protobufjs';
import type { FieldPath, MethodInfo } from '../protocol/index.js';
import { InvalidRequestError } from './errors.js';
import { validateRepository, validateStorageName } from './request-validation.js';
import type { RepositoryRef, RepositoryRewrite, Route } from './route.js';
import { findField, spliceField, type FieldSpan } from './wire-fields.js';

/** What a router needs to know about a request, all of it validated. */
export interface RequestFacts {
  repository?: RepositoryRef;
  additionalRepository?: RepositoryRef;
  storage?: string;
}

interface Located {
  /** The bytes of each message on the path, outermost first. */
  levels: Uint8Array[];
  spans: FieldSpan[];
  value: Uint8Array;
}

interface RepositoryMessage extends protobuf.Message {
  storage_name: string;
  relative_path: string;
}

export class FirstMessageCodec {
  private readonly repositoryType: protobuf.Type;

  constructor(root: protobuf.Root) {
    this.repositoryType = root.lookupType('gitaly.Repository');
  }

  read(method: MethodInfo, bytes: Uint8Array): RequestFacts {
    const facts: RequestFacts = {};
    if (method.targetRepository !== undefined) {
      const found = this.readRepository(method, bytes, method.targetRepository);
      if (found === undefined) throw new InvalidRequestError(fieldName(method.targetRepository), 'missing');
      facts.repository = found;
    }
    if (method.additionalRepository !== undefined) {
      const found = this.readRepository(method, bytes, method.additionalRepository);
      if (found !== undefined) facts.additionalRepository = found;
    }
    if (method.storage !== undefined) facts.storage = readStorage(method, bytes, method.storage);
    return facts;
  }

  /** The first message with the route's physical names in place of the client's. */
  rewrite(method: MethodInfo, bytes: Uint8Array, route: Route): Uint8Array {
    let out = bytes;
    if (method.targetRepository !== undefined && route.rewrite !== undefined) {
      out = this.rewriteRepository(method, out, method.targetRepository, route.rewrite);
    }
    if (method.additionalRepository !== undefined && route.additionalRewrite !== undefined) {
      out = this.rewriteRepository(method, out, method.additionalRepository, route.additionalRewrite);
    }
    if (method.storage !== undefined && route.storageRewrite !== undefined) {
      const located = locate(method, out, method.storage);
      if (located !== undefined) out = replaceValue(located, Buffer.from(route.storageRewrite, 'utf8'));
    }
    return out;
  }

  private readRepository(method: MethodInfo, bytes: Uint8Array, path: FieldPath): RepositoryRef | undefined {
    const located = locate(method, bytes, path);
    if (located === undefined) return undefined;
    const message = this.decodeRepository(located.value, fieldName(path));
    return validateRepository({ storage_name: message.storage_name, relative_path: message.relative_path }, fieldName(path));
  }

  private rewriteRepository(method: MethodInfo, bytes: Uint8Array, path: FieldPath, rewrite: RepositoryRewrite): Uint8Array {
    const located = locate(method, bytes, path);
    if (located === undefined) return bytes;
    const message = this.decodeRepository(located.value, fieldName(path));
    message.storage_name = rewrite.storageName;
    message.relative_path = rewrite.relativePath;
    return replaceValue(located, this.repositoryType.encode(message).finish());
  }

  private decodeRepository(bytes: Uint8Array, field: string): RepositoryMessage {
    try {
      return this.repositoryType.decode(bytes) as RepositoryMessage;
    } catch (error) {
      throw new InvalidRequestError(field, `malformed Repository message (${error instanceof Error ? error.message : String(error)})`);
    }
  }
}

function readStorage(method: MethodInfo, bytes: Uint8Array, path: FieldPath): string {
  const located = locate(method, bytes, path);
  const name = located === undefined ? '' : Buffer.from(located.value.buffer, located.value.byteOffset, located.value.byteLength).toString('utf8');
  return validateStorageName(name, fieldName(path));
}

function locate(method: MethodInfo, bytes: Uint8Array, path: FieldPath): Located | undefined {
  const levels: Uint8Array[] = [];
  const spans: FieldSpan[] = [];
  let current = bytes;
  for (let depth = 0; depth < path.numbers.length; depth++) {
    const container = depth === 0 ? method.requestType : path.names.slice(0, depth).join('.');
    const span = findField(current, path.numbers[depth] as number, path.names.slice(0, depth + 1).join('.'), container);
    if (span === undefined) return undefined;
    levels.push(current);
    spans.push(span);
    current = current.subarray(span.valueStart, span.valueEnd);
  }
  return { levels, spans, value: current };
}

// Rebuilds the path from the inside out: every enclosing length prefix
// changes with the new value's length.
function replaceValue(located: Located, value: Uint8Array): Uint8Array {
  let inner = value;
  for (let depth = located.levels.length - 1; depth >= 0; depth--) {
    inner = spliceField(located.levels[depth] as Uint8Array, located.spans[depth] as FieldSpan, inner);
  }
  return inner;
}

function fieldName(path: FieldPath): string {
  return path.names.join('.');
}

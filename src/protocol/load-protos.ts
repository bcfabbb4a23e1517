// Loads our .proto files into one protobufjs Root. Every consumer (server,
// clients, method registry, the router's proxy) shares it, so they all agree
// on one set of descriptors.
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import protobuf from 'protobufjs';
import { gitalyProtoDir } from './proto-dir.js';

const require = createRequire(import.meta.url);
// protobufjs ships descriptor.proto, timestamp.proto and duration.proto.
const protobufjsDir = path.dirname(require.resolve('protobufjs/package.json'));

const cache = new Map<string, protobuf.Root>();

/** Every .proto file in the folder, loaded and resolved. Cached per folder. */
export function loadGitalyRoot(protoDir: string = gitalyProtoDir()): protobuf.Root {
  const cached = cache.get(protoDir);
  if (cached !== undefined) return cached;
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    if (path.isAbsolute(target)) return target;
    return target.startsWith('google/protobuf/') ? path.join(protobufjsDir, target) : path.join(protoDir, target);
  };
  const files = readdirSync(protoDir).filter((name) => name.endsWith('.proto')).sort();
  root.loadSync(files.map((name) => path.join(protoDir, name)), { keepCase: true });
  root.resolveAll();
  cache.set(protoDir, root);
  return root;
}

/** Every service in the root, depth first, with its fully qualified name. */
export function listServices(root: protobuf.Root): protobuf.Service[] {
  const found: protobuf.Service[] = [];
  const visit = (ns: protobuf.NamespaceBase): void => {
    for (const nested of ns.nestedArray) {
      if (nested instanceof protobuf.Service) found.push(nested);
      else if (nested instanceof protobuf.Namespace) visit(nested);
    }
  };
  visit(root);
  return found;
}

/** "gitaly.RefService" for a service nested in package gitaly. */
export function qualifiedName(obj: protobuf.ReflectionObject): string {
  return obj.fullName.replace(/^\./, '');
}

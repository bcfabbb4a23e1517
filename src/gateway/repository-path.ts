// Maps a request path to a Gitaly relative path and a smart-HTTP route.
// The storage node validates relative paths too; the gateway refuses bad
// ones first so a traversal attempt never reaches gRPC.
import { HttpError } from './http-error.js';

export const MAX_RELATIVE_PATH_BYTES = 4096;

export type GitService = 'git-upload-pack' | 'git-receive-pack';

export type GitRoute =
  | { kind: 'info-refs'; relativePath: string; service: GitService }
  | { kind: 'rpc'; relativePath: string; service: GitService };

const INFO_REFS_SUFFIX = '/info/refs';
const RPC_SUFFIXES: ReadonlyArray<[string, GitService]> = [
  ['/git-upload-pack', 'git-upload-pack'],
  ['/git-receive-pack', 'git-receive-pack'],
];

export const MAX_REQUEST_TARGET_BYTES = 8192;

/**
 * Routes a request by its raw target (`req.url`). It is split by hand, not
 * with URL, because URL resolves `..` segments away and a traversal attempt
 * must be refused, not silently rewritten.
 */
export function routeRequest(method: string, requestTarget: string): GitRoute {
  if (requestTarget.length > MAX_REQUEST_TARGET_BYTES) {
    throw new HttpError(414, `the request target is longer than ${MAX_REQUEST_TARGET_BYTES} bytes`);
  }
  if (!requestTarget.startsWith('/')) throw new HttpError(400, 'the request target must be an absolute path');
  const queryStart = requestTarget.indexOf('?');
  const pathname = queryStart < 0 ? requestTarget : requestTarget.slice(0, queryStart);
  const query = new URLSearchParams(queryStart < 0 ? '' : requestTarget.slice(queryStart + 1));
  if (pathname.endsWith(INFO_REFS_SUFFIX)) {
    requireMethod(method, 'GET');
    const relativePath = parseRelativePath(pathname.slice(0, -INFO_REFS_SUFFIX.length));
    return { kind: 'info-refs', relativePath, service: parseServiceQuery(query) };
  }
  for (const [suffix, service] of RPC_SUFFIXES) {
    if (pathname.endsWith(suffix)) {
      requireMethod(method, 'POST');
      return { kind: 'rpc', relativePath: parseRelativePath(pathname.slice(0, -suffix.length)), service };
    }
  }
  throw new HttpError(404, 'not a git smart HTTP endpoint: expected <repository>/info/refs, /git-upload-pack or /git-receive-pack');
}

function requireMethod(actual: string, expected: 'GET' | 'POST'): void {
  if (actual !== expected) {
    throw new HttpError(405, `method ${actual} not allowed here; use ${expected}`, { Allow: expected });
  }
}

function parseServiceQuery(params: URLSearchParams): GitService {
  const service = params.get('service');
  if (service === 'git-upload-pack' || service === 'git-receive-pack') return service;
  if (service === null) {
    throw new HttpError(400, 'the dumb HTTP protocol is not supported; a service=git-upload-pack or git-receive-pack query is required');
  }
  throw new HttpError(400, `unsupported service "${printable(service)}"; expected git-upload-pack or git-receive-pack`);
}

/**
 * `/foo/bar.git` (still percent-encoded, with its leading slash) becomes
 * `foo/bar.git`. Refuses traversal, absolute paths, NUL bytes and empty
 * segments with 400.
 */
export function parseRelativePath(encodedPath: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(encodedPath);
  } catch {
    throw new HttpError(400, 'the repository path is not valid percent-encoded UTF-8');
  }
  const path = decoded.startsWith('/') ? decoded.slice(1) : decoded;
  return validateRelativePath(path);
}

export function validateRelativePath(path: string): string {
  if (path.length === 0) throw new HttpError(400, 'the repository path is empty');
  if (Buffer.byteLength(path) > MAX_RELATIVE_PATH_BYTES) {
    throw new HttpError(400, `the repository path is longer than ${MAX_RELATIVE_PATH_BYTES} bytes`);
  }
  if (path.includes('\0')) throw new HttpError(400, 'the repository path contains a NUL byte');
  if (path.startsWith('/')) throw new HttpError(400, 'the repository path must be relative, not absolute');
  const segments = path.split('/');
  if (segments.includes('..')) throw new HttpError(400, 'the repository path must not contain ".." (path traversal)');
  if (segments.some((s) => s === '' || s === '.')) {
    throw new HttpError(400, 'the repository path must not contain empty or "." segments');
  }
  return path;
}

// Echo user input in errors only as visible ASCII, and briefly.
function printable(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '?').slice(0, 64);
}

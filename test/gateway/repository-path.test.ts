import t from 'tap';
import fc from 'fast-check';
import * as grpc from '@grpc/grpc-js';
import { HttpError, httpStatusForGrpcCode, routeRequest, toHttpError, validateRelativePath } from '../../src/gateway/index.js';

function refusal(fn: () => unknown): { status: number; message: string } {
  try {
    fn();
  } catch (error) {
    if (error instanceof HttpError) return { status: error.statusCode, message: error.message };
    throw error;
  }
  throw new Error('expected an HttpError');
}

t.test('routes the three smart HTTP endpoints', async (t) => {
  t.same(routeRequest('GET', '/foo/bar.git/info/refs?service=git-upload-pack'), {
    kind: 'info-refs',
    relativePath: 'foo/bar.git',
    service: 'git-upload-pack',
  });
  t.same(routeRequest('GET', '/r.git/info/refs?service=git-receive-pack'), {
    kind: 'info-refs',
    relativePath: 'r.git',
    service: 'git-receive-pack',
  });
  t.same(routeRequest('POST', '/a/b/c.git/git-upload-pack'), { kind: 'rpc', relativePath: 'a/b/c.git', service: 'git-upload-pack' });
  t.same(routeRequest('POST', '/c.git/git-receive-pack'), { kind: 'rpc', relativePath: 'c.git', service: 'git-receive-pack' });
  t.same(routeRequest('POST', '/with%20space.git/git-receive-pack').relativePath, 'with space.git');
});

t.test('refuses traversal, absolute paths, NUL and empty segments with 400', async (t) => {
  const targets = [
    '/../etc/info/refs?service=git-upload-pack',
    '/foo/../../x.git/info/refs?service=git-upload-pack',
    '/foo/%2e%2e/x.git/git-upload-pack',
    '/foo%2F..%2Fx.git/git-upload-pack',
    '//etc/passwd/info/refs?service=git-upload-pack',
    '/%2Fetc/x.git/git-receive-pack',
    '/x%00.git/info/refs?service=git-upload-pack',
    '/a//b.git/git-upload-pack',
    '/./b.git/git-upload-pack',
    '/info/refs?service=git-upload-pack',
    '/%ff.git/git-upload-pack',
  ];
  for (const target of targets) {
    const method = target.includes('info/refs') ? 'GET' : 'POST';
    t.equal(refusal(() => routeRequest(method, target)).status, 400, target);
  }
  t.match(refusal(() => routeRequest('GET', '/../x/info/refs?service=git-upload-pack')).message, /path traversal/);
  t.match(refusal(() => routeRequest('GET', '/x%00/info/refs?service=git-upload-pack')).message, /NUL/);
  t.match(refusal(() => routeRequest('POST', '//abs/git-upload-pack')).message, /absolute/);
});

t.test('other refusals are precise', async (t) => {
  t.same(refusal(() => routeRequest('GET', '/x.git/info/refs')), {
    status: 400,
    message: 'the dumb HTTP protocol is not supported; a service=git-upload-pack or git-receive-pack query is required',
  });
  t.match(refusal(() => routeRequest('GET', '/x.git/info/refs?service=git-archive')), { status: 400, message: /unsupported service "git-archive"/ });
  t.match(refusal(() => routeRequest('POST', '/x.git/info/refs?service=git-upload-pack')), { status: 405, message: /use GET/ });
  t.match(refusal(() => routeRequest('GET', '/x.git/git-upload-pack')), { status: 405, message: /use POST/ });
  t.match(refusal(() => routeRequest('GET', '/x.git/HEAD')), { status: 404, message: /not a git smart HTTP endpoint/ });
  t.match(refusal(() => routeRequest('GET', `/${'a'.repeat(9000)}/info/refs`)), { status: 414 });
  t.match(refusal(() => validateRelativePath(`${'a'.repeat(4097)}`)), { status: 400, message: /longer than 4096 bytes/ });
});

t.test('fuzz: accepted paths never escape and never contain NUL', async (t) => {
  const seed = process.env.FUZZ_SEED === undefined ? Date.now() ^ (process.pid << 8) : Number(process.env.FUZZ_SEED);
  t.comment(`fuzz seed ${seed} (replay with FUZZ_SEED=${seed})`);
  const segment = fc.oneof(fc.constantFrom('..', '.', '', '%2e%2e', '%2F', '%00', 'a.git', '%2e'), fc.string({ maxLength: 6 }));
  const target = fc.array(segment, { minLength: 1, maxLength: 6 }).map((s) => `/${s.join('/')}/git-upload-pack`);
  fc.assert(
    fc.property(target, (value) => {
      let relativePath: string;
      try {
        relativePath = routeRequest('POST', value).relativePath;
      } catch (error) {
        return error instanceof HttpError && error.statusCode >= 400 && error.statusCode < 500;
      }
      const segments = relativePath.split('/');
      return !relativePath.startsWith('/') && !relativePath.includes('\0') && !segments.includes('..') && !segments.includes('');
    }),
    { seed, numRuns: 3000 },
  );
  t.pass('3000 targets checked');
});

t.test('gRPC codes map to HTTP statuses', async (t) => {
  t.equal(httpStatusForGrpcCode(grpc.status.NOT_FOUND), 404);
  t.equal(httpStatusForGrpcCode(grpc.status.UNAUTHENTICATED), 401);
  t.equal(httpStatusForGrpcCode(grpc.status.INVALID_ARGUMENT), 400);
  t.equal(httpStatusForGrpcCode(grpc.status.RESOURCE_EXHAUSTED), 429);
  t.equal(httpStatusForGrpcCode(grpc.status.UNAVAILABLE), 503);
  t.equal(httpStatusForGrpcCode(grpc.status.INTERNAL), 500);
  t.equal(httpStatusForGrpcCode(grpc.status.ABORTED), 500);
  t.equal(httpStatusForGrpcCode(grpc.status.FAILED_PRECONDITION), 500);
  const grpcError = Object.assign(new Error('x'), { code: grpc.status.NOT_FOUND, details: 'repository not found', metadata: new grpc.Metadata() });
  t.same(toHttpError(grpcError).message, 'NOT_FOUND: repository not found');
  t.same(toHttpError(new Error('secret internals')).message, 'internal gateway error', 'unknown errors are not echoed');
});

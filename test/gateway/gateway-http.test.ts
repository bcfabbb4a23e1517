// The gateway's HTTP behaviour against a scripted SmartHTTPService (a real
// grpc-js server on 127.0.0.1): routing, headers, gzip, limits, status
// mapping, aborts, the concurrency bound and auth forwarding.
import t, { type Test } from 'tap';
import { randomBytes, createHash } from 'node:crypto';
import { once } from 'node:events';
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { createGitGateway, type GatewayOptionsInput } from '../../src/gateway/index.js';
import { startFakeUpstream, type FakeUpstream } from './fake-smart-http.js';
import { httpRequest } from './http-request.js';

async function setup(t: Test, options: Partial<GatewayOptionsInput> = {}, upstreamToken?: string) {
  const upstream = await startFakeUpstream(upstreamToken);
  t.teardown(upstream.stop);
  const gateway = createGitGateway({ target: upstream.address, storage: 'virtual', ...options });
  const address = await gateway.listen(0, '127.0.0.1');
  t.teardown(gateway.close);
  return { upstream, gateway, base: `http://127.0.0.1:${address.port}` };
}

const UPLOAD_PACK_REQUEST = { 'Content-Type': 'application/x-git-upload-pack-request' };

t.test('info/refs relays the advertisement with git headers', async (t) => {
  const { base } = await setup(t);
  const res = await httpRequest(base, `/group/project.git/info/refs?service=git-upload-pack`);
  t.equal(res.status, 200);
  t.equal(res.headers['content-type'], 'application/x-git-upload-pack-advertisement');
  t.equal(res.headers['cache-control'], 'no-cache, max-age=0, must-revalidate');
  t.equal(res.body.toString(), 'advert:upload-pack:virtual/group/project.git:');
  const v2 = await httpRequest(base, `/p.git/info/refs?service=git-receive-pack`, { headers: { 'Git-Protocol': 'version=2' } });
  t.equal(v2.headers['content-type'], 'application/x-git-receive-pack-advertisement');
  t.equal(v2.body.toString(), 'advert:receive-pack:virtual/p.git:version=2', 'Git-Protocol is forwarded');
});

t.test('gRPC failures become HTTP statuses with a plain-text message', async (t) => {
  const { base } = await setup(t);
  const missing = await httpRequest(base, `/missing.git/info/refs?service=git-upload-pack`);
  t.equal(missing.status, 404);
  t.equal(missing.headers['content-type'], 'text/plain; charset=utf-8');
  t.equal(missing.body.toString(), 'NOT_FOUND: repository not found: missing.git\n');
  const expected: Array<[number, number]> = [[16, 401], [3, 400], [8, 429], [14, 503], [13, 500], [7, 403], [10, 500]];
  for (const [code, status] of expected) {
    const res = await httpRequest(base, `/code-${code}.git/info/refs?service=git-upload-pack`);
    t.equal(res.status, status, `gRPC ${code} -> HTTP ${status}`);
    t.match(res.body.toString(), /scripted status/);
  }
  const post = await httpRequest(base, `/missing.git/git-upload-pack`, { method: 'POST', headers: UPLOAD_PACK_REQUEST, body: Buffer.from('0000') });
  t.equal(post.status, 404, 'POST calls map too');
  const retry = await httpRequest(base, `/code-8.git/info/refs?service=git-upload-pack`);
  t.equal(retry.headers['retry-after'], '1');
});

t.test('an unreachable target is 503', async (t) => {
  const gateway = createGitGateway({ target: '127.0.0.1:1', storage: 'virtual' });
  const { port } = await gateway.listen(0, '127.0.0.1');
  t.teardown(gateway.close);
  const res = await httpRequest(`http://127.0.0.1:${port}`, `/x.git/info/refs?service=git-upload-pack`);
  t.equal(res.status, 503);
  t.match(res.body.toString(), /^UNAVAILABLE: /);
});

t.test('bad requests are refused before any gRPC call', async (t) => {
  const { base, upstream } = await setup(t);
  const traversal = await httpRequest(base, `/../../etc/git-upload-pack`, { method: 'POST', headers: UPLOAD_PACK_REQUEST, body: Buffer.from('0000') });
  t.equal(traversal.status, 400);
  t.match(traversal.body.toString(), /path traversal/);
  const wrongType = await httpRequest(base, `/x.git/git-upload-pack`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: Buffer.from('0000') });
  t.equal(wrongType.status, 415);
  t.match(wrongType.body.toString(), /expected Content-Type application\/x-git-upload-pack-request/);
  const brotli = await httpRequest(base, `/x.git/git-upload-pack`, {
    method: 'POST',
    headers: { ...UPLOAD_PACK_REQUEST, 'Content-Encoding': 'br' },
    body: Buffer.from('0000'),
  });
  t.equal(brotli.status, 415);
  t.match(brotli.body.toString(), /unsupported Content-Encoding "br"/);
  const badProtocol = await httpRequest(base, `/x.git/info/refs?service=git-upload-pack`, { headers: { 'Git-Protocol': 'x'.repeat(300) } });
  t.equal(badProtocol.status, 400);
  t.equal(upstream.posts.length, 0);
});

t.test('POST bodies stream through, identity and gzip alike', async (t) => {
  const { base, upstream } = await setup(t);
  const payload = randomBytes(3 * 1024 * 1024 + 17);
  const sha256 = createHash('sha256').update(payload).digest('hex');
  const plain = await httpRequest(base, `/a/b.git/git-upload-pack`, { method: 'POST', headers: UPLOAD_PACK_REQUEST, body: payload });
  t.equal(plain.status, 200);
  t.equal(plain.headers['content-type'], 'application/x-git-upload-pack-result');
  t.equal(plain.body.toString(), `got ${payload.length} bytes ${sha256}`);
  const gzipped = await httpRequest(base, `/a/b.git/git-upload-pack`, {
    method: 'POST',
    headers: { ...UPLOAD_PACK_REQUEST, 'Content-Encoding': 'gzip' },
    body: gzipSync(payload),
  });
  t.equal(gzipped.status, 200);
  t.equal(gzipped.body.toString(), `got ${payload.length} bytes ${sha256}`, 'the upstream sees the decompressed bytes');
  t.same(upstream.posts[0]?.first.repository, {
    storage_name: 'virtual',
    relative_path: 'a/b.git',
    git_object_directory: '',
    git_alternate_object_directories: [],
    gl_repository: '',
    gl_project_path: '',
  });
});

t.test('receive-pack carries the hook identity in its first message', async (t) => {
  const { base, upstream } = await setup(t, { glId: 'user-42' });
  const res = await httpRequest(base, `/r.git/git-receive-pack`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-git-receive-pack-request', 'Git-Protocol': 'version=2' },
    body: Buffer.from('0000'),
  });
  t.equal(res.status, 200);
  t.equal(res.headers['content-type'], 'application/x-git-receive-pack-result');
  t.match(upstream.posts[0]?.first, { gl_id: 'user-42', git_protocol: 'version=2' });
});

t.test('corrupt gzip is 400, oversized bodies are 413', async (t) => {
  const { base, upstream } = await setup(t, { maxUploadPackRequestBytes: 64 * 1024 });
  const corrupt = await httpRequest(base, `/x.git/git-upload-pack`, {
    method: 'POST',
    headers: { ...UPLOAD_PACK_REQUEST, 'Content-Encoding': 'gzip' },
    body: Buffer.concat([gzipSync(Buffer.from('0000')).subarray(0, 10), Buffer.from('not gzip at all')]),
  });
  t.equal(corrupt.status, 400);
  t.match(corrupt.body.toString(), /gzip request body is corrupt/);
  const bomb = await httpRequest(base, `/x.git/git-upload-pack`, {
    method: 'POST',
    headers: { ...UPLOAD_PACK_REQUEST, 'Content-Encoding': 'gzip' },
    body: gzipSync(Buffer.alloc(8 * 1024 * 1024)),
  });
  t.equal(bomb.status, 413, 'the limit counts decompressed bytes');
  t.match(bomb.body.toString(), /larger than the limit of 65536 bytes/);
  if (upstream.cancellations.count === 0) await once(upstream.cancellations, 'cancelled');
  t.pass('the call was cancelled, not ended');
  const declared = await httpRequest(base, `/x.git/git-upload-pack`, { method: 'POST', headers: UPLOAD_PACK_REQUEST, body: Buffer.alloc(65 * 1024) });
  t.equal(declared.status, 413);
});

t.test('a failure after the first byte aborts the response', async (t) => {
  const { base } = await setup(t);
  await t.rejects(httpRequest(base, `/mid-error.git/info/refs?service=git-upload-pack`), /aborted|socket hang up|ECONNRESET/);
});

t.test('requests beyond the concurrency bound get 429', async (t) => {
  const { base } = await setup(t, { maxConcurrentRequests: 1 });
  // Hold one request open: its body has not ended, so the call is in flight.
  const held = request(`${base}/x.git/git-upload-pack`, { method: 'POST', headers: UPLOAD_PACK_REQUEST, agent: false });
  const heldResponse = new Promise<string>((resolve, reject) => {
    held.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString()));
    });
    held.on('error', reject);
  });
  held.write('0032want ');
  await new Promise<void>((resolve) => held.once('socket', (s) => s.once('connect', () => resolve())));
  let refused = await httpRequest(base, `/x.git/info/refs?service=git-upload-pack`);
  // The held request reaches the server asynchronously; poll until it counts.
  while (refused.status === 200) refused = await httpRequest(base, `/x.git/info/refs?service=git-upload-pack`);
  t.equal(refused.status, 429);
  t.match(refused.body.toString(), /limit of 1 concurrent requests/);
  held.end('0000');
  t.match(await heldResponse, /^got 13 bytes/);
});

t.test('the v2 token is sent when configured', async (t) => {
  const secret = 'gateway-to-node secret';
  const { base } = await setup(t, { token: secret }, secret);
  const ok = await httpRequest(base, `/x.git/info/refs?service=git-upload-pack`);
  t.equal(ok.status, 200);
  const { base: noTokenBase } = await setup(t, {}, secret);
  const refused = await httpRequest(noTokenBase, `/x.git/info/refs?service=git-upload-pack`);
  t.equal(refused.status, 401);
  t.match(refused.body.toString(), /^UNAUTHENTICATED: authentication failed: missing/);
  t.notMatch(refused.body.toString(), secret);
});

t.test('close() stops listening', async (t) => {
  const upstream: FakeUpstream = await startFakeUpstream();
  t.teardown(upstream.stop);
  const gateway = createGitGateway({ target: upstream.address, storage: 'virtual' });
  const { port } = await gateway.listen(0, '127.0.0.1');
  t.equal((await httpRequest(`http://127.0.0.1:${port}`, `/x.git/info/refs?service=git-upload-pack`)).status, 200);
  await gateway.close();
  await t.rejects(httpRequest(`http://127.0.0.1:${port}`, `/x.git/info/refs?service=git-upload-pack`), /ECONNREFUSED/);
});

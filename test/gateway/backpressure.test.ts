// Backpressure through the gateway, both ways, checked without timers (see
// paced-stream.ts): a reader that stops reading must stop the writer at the
// other end once the buffers in between are full.
import t, { type Test } from 'tap';
import { once } from 'node:events';
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { createGitGateway } from '../../src/gateway/index.js';
import { startFakeUpstream } from './fake-smart-http.js';
import { checkPaced, PacedReader, PacedWriter } from './paced-stream.js';

const MiB = 1024 * 1024;
const TOTAL_MIB = 128;
// Socket buffers on loopback, HTTP/2 windows and stream buffers on two hops;
// far less than the total, which a relay without backpressure would reach.
const BOUND_BYTES = 32 * MiB;
// Smaller than the writer's own buffer (16 messages of 64 KiB), so a writer
// that is never really held back gains on the reader at every step.
const STEP_BYTES = 64 * 1024;

async function setup(t: Test) {
  const upstream = await startFakeUpstream();
  t.teardown(upstream.stop);
  const gateway = createGitGateway({ target: upstream.address, storage: 'virtual' });
  const { port } = await gateway.listen(0, '127.0.0.1');
  t.teardown(gateway.close);
  let response: ServerResponse | undefined;
  gateway.server.on('request', (_req, res: ServerResponse) => (response = res));
  // The gateway holds when it waits for its client's socket to drain.
  const gatewayHolding = (): boolean => (response?.listenerCount('drain') ?? 0) > 0;
  return { upstream, port, gatewayHolding };
}

t.test('a client that stops reading stops the storage node from writing', async (t) => {
  const { upstream, port, gatewayHolding } = await setup(t);
  const writerReady = once(upstream.paced, 'writer') as Promise<[PacedWriter]>;
  const req = request({ host: '127.0.0.1', port, path: `/big-${TOTAL_MIB}.git/info/refs?service=git-upload-pack`, agent: false });
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  t.equal(res.statusCode, 200);
  const reader = new PacedReader(res, (chunk) => (chunk as Buffer).length);
  const [writer] = await writerReady;
  // The node's gRPC writes block on HTTP/2 flow control now and then even
  // when the gateway reads eagerly, so the client steps only while the
  // gateway holds (waits for it).
  const result = await checkPaced(writer, reader, BOUND_BYTES, STEP_BYTES, gatewayHolding);
  t.comment(`the node ran at most ${(result.maxAheadBytes / MiB).toFixed(1)} MiB ahead of the paused client`);
  t.equal(result.violation, undefined);
  t.equal(reader.received, TOTAL_MIB * MiB, 'every byte arrived');
});

t.test('a storage node that stops reading stops the client from writing', async (t) => {
  const { upstream, port } = await setup(t);
  const readerReady = once(upstream.paced, 'reader') as Promise<[PacedReader]>;
  const req = request({
    host: '127.0.0.1',
    port,
    path: '/paced.git/git-receive-pack',
    method: 'POST',
    headers: { 'Content-Type': 'application/x-git-receive-pack-request' },
    agent: false,
  });
  const responded = once(req, 'response') as Promise<[IncomingMessage]>;
  const writer = new PacedWriter();
  const writing = writer.run(req, TOTAL_MIB * MiB, 64 * 1024, (chunk) => chunk, () => req.end());
  const [reader] = await readerReady;
  const result = await checkPaced(writer, reader, BOUND_BYTES, STEP_BYTES);
  await writing;
  t.comment(`the client ran at most ${(result.maxAheadBytes / MiB).toFixed(1)} MiB ahead of the paused node`);
  t.equal(result.violation, undefined);
  const [res] = await responded;
  const body: Buffer[] = [];
  for await (const chunk of res) body.push(chunk as Buffer);
  t.equal(Buffer.concat(body).toString(), `read ${TOTAL_MIB * MiB} bytes`);
});

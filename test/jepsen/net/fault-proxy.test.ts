// FaultProxy against a real echo server on loopback: each mode, switched at
// run time on live connections, and the bounds.
import t, { type Test } from 'tap';
import { performance } from 'node:perf_hooks';
import { BLACKHOLE, FaultProxy, PASS, RESET, delayMode, type FaultProxyOptions } from '../../../jepsen/net/index.js';
import { connectRecording, startEchoServer, waitFor, type EchoServer } from './tcp-helpers.js';

async function setup(t: Test, options: Partial<FaultProxyOptions> = {}): Promise<{ echo: EchoServer; proxy: FaultProxy }> {
  const echo = await startEchoServer();
  const proxy = new FaultProxy({ name: 'a->b', target: echo.address, ...options });
  await proxy.start();
  t.teardown(async () => {
    await proxy.close();
    await echo.close();
  });
  return { echo, proxy };
}

t.test('pass forwards bytes both ways and counts them', async (t) => {
  const { echo, proxy } = await setup(t);
  const client = await connectRecording(proxy.address);
  client.socket.write('hello');
  t.ok(await waitFor(() => client.received() === 'hello', 2000), 'echo came back through the proxy');
  t.equal(echo.received(), 'hello');
  const stats = proxy.stats();
  t.equal(stats.connectionsAccepted, 1);
  t.equal(stats.connectionsActive, 1);
  t.equal(stats.upstream.forwardedBytes, 5);
  t.equal(stats.downstream.forwardedBytes, 5);
  client.socket.end();
  t.ok(await waitFor(() => proxy.stats().connectionsActive === 0, 2000), 'a closed connection leaves the proxy');
});

t.test('blackhole: a request times out; heal lets new bytes through on the same connection', async (t) => {
  const { echo, proxy } = await setup(t);
  const client = await connectRecording(proxy.address);
  client.socket.write('one');
  t.ok(await waitFor(() => client.received() === 'one', 2000));
  proxy.setModes({ upstream: BLACKHOLE, downstream: BLACKHOLE });
  client.socket.write('two');
  t.notOk(await waitFor(() => client.received() !== 'one', 300), 'no reply while blackholed (the request times out)');
  t.equal(echo.received(), 'one', 'the server never saw the blackholed bytes');
  t.equal(client.error(), null, 'the client socket stays open');
  t.equal(proxy.stats().upstream.bufferedBytes, 3, 'the held bytes are counted');
  proxy.setModes({ upstream: PASS, downstream: PASS });
  client.socket.write('three');
  t.ok(await waitFor(() => client.received().endsWith('three'), 2000), 'new bytes pass after heal, same connection');
  t.equal(client.received(), 'onetwothree', 'held bytes arrive first, in order, as TCP retransmission would deliver them');
});

t.test('blackhole on a new connection: accepted, nothing dialled until heal', async (t) => {
  const { echo, proxy } = await setup(t);
  proxy.setModes({ upstream: BLACKHOLE, downstream: BLACKHOLE });
  const client = await connectRecording(proxy.address);
  client.socket.write('x');
  t.notOk(await waitFor(() => client.received() !== '', 200));
  t.equal(echo.connections(), 0, 'a partitioned target sees no connection');
  proxy.setModes({ upstream: PASS, downstream: PASS });
  t.ok(await waitFor(() => client.received() === 'x', 2000));
  t.equal(echo.connections(), 1);
});

t.test('delay adds at least the delay in each direction', async (t) => {
  const { proxy } = await setup(t);
  const client = await connectRecording(proxy.address);
  const delayMs = 120;
  proxy.setModes({ upstream: delayMode(delayMs), downstream: delayMode(delayMs) });
  const started = performance.now();
  client.socket.write('a');
  client.socket.write('b');
  t.ok(await waitFor(() => client.received() === 'ab', 3000, 1), 'order preserved');
  const elapsedMs = performance.now() - started;
  t.ok(elapsedMs >= 2 * delayMs, `round trip ${elapsedMs.toFixed(1)} ms >= ${2 * delayMs} ms`);
  t.comment(`delay ${delayMs} ms each way: measured round trip ${elapsedMs.toFixed(1)} ms`);
  proxy.setModes({ upstream: PASS, downstream: delayMode(delayMs) });
  const started2 = performance.now();
  client.socket.write('c');
  t.ok(await waitFor(() => client.received() === 'abc', 3000, 1));
  const oneWayMs = performance.now() - started2;
  t.ok(oneWayMs >= delayMs, `one direction delayed: ${oneWayMs.toFixed(1)} ms >= ${delayMs} ms`);
});

t.test('reset: existing connections get ECONNRESET, and so do new ones until healed', async (t) => {
  const { proxy } = await setup(t);
  const client = await connectRecording(proxy.address);
  client.socket.write('hi');
  t.ok(await waitFor(() => client.received() === 'hi', 2000));
  proxy.setModes({ upstream: RESET });
  t.ok(await waitFor(() => client.error() !== null, 2000), 'the existing connection sees an error');
  t.equal(client.error()?.code, 'ECONNRESET');
  const fresh = await connectRecording(proxy.address).catch((e: NodeJS.ErrnoException) => e);
  if (fresh instanceof Error) {
    t.equal(fresh.code, 'ECONNRESET', 'a new connection is reset');
  } else {
    t.ok(await waitFor(() => fresh.error() !== null, 2000));
    t.equal(fresh.error()?.code, 'ECONNRESET', 'a new connection is reset');
  }
  t.ok(proxy.stats().connectionsReset >= 2);
  proxy.setModes({ upstream: PASS });
  const healed = await connectRecording(proxy.address);
  healed.socket.write('ok');
  t.ok(await waitFor(() => healed.received() === 'ok', 2000), 'after heal a new connection works');
  healed.socket.destroy();
});

t.test('one direction blackholed: upstream bytes dropped while downstream bytes arrive', async (t) => {
  const { proxy, echo } = await setup(t);
  const client = await connectRecording(proxy.address);
  client.socket.write('ping');
  t.ok(await waitFor(() => echo.received() === 'ping' && client.received() === 'ping', 2000));
  // The server writes on its own (not an echo) while the client's direction is cut.
  proxy.setModes({ upstream: BLACKHOLE });
  client.socket.write('lost');
  for (const socket of echo.sockets()) socket.write('push');
  t.ok(await waitFor(() => client.received() === 'pingpush', 2000), "the server's bytes reach the client");
  t.notOk(await waitFor(() => echo.received() !== 'ping', 200), "the client's bytes do not reach the server");
});

t.test('bounds: connections beyond the limit are refused; overflow drop discards and counts', async (t) => {
  const { proxy } = await setup(t, { maxConnections: 1, maxBufferedBytes: 10, overflow: 'drop' });
  const first = await connectRecording(proxy.address);
  const second = await connectRecording(proxy.address).catch((e: NodeJS.ErrnoException) => e);
  if (!(second instanceof Error)) t.ok(await waitFor(() => second.error() !== null || second.closed(), 2000), 'second connection refused');
  t.equal(proxy.stats().connectionsRejected, 1);
  proxy.setModes({ upstream: BLACKHOLE });
  first.socket.write('0123456789abcdef');
  t.ok(await waitFor(() => proxy.stats().upstream.receivedBytes === 16, 2000));
  t.equal(proxy.stats().upstream.droppedBytes, 16, 'a chunk that does not fit the bound is dropped whole');
  t.equal(proxy.stats().upstream.bufferedBytes, 0);
  first.socket.destroy();
});

t.test('bounds: overflow pause holds at most the bound, then stops reading; nothing lost on heal', async (t) => {
  const { proxy, echo } = await setup(t, { maxBufferedBytes: 64 * 1024 });
  const client = await connectRecording(proxy.address);
  client.socket.write('x');
  t.ok(await waitFor(() => client.received() === 'x', 2000));
  proxy.setModes({ upstream: BLACKHOLE });
  const total = 4 * 1024 * 1024;
  const block = Buffer.alloc(64 * 1024, 'y');
  for (let sent = 0; sent < total; sent += block.length) client.socket.write(block);
  t.ok(await waitFor(() => proxy.stats().upstream.bufferedBytes >= 64 * 1024, 2000), 'the proxy holds up to the bound');
  t.ok(proxy.stats().upstream.bufferedBytes < 64 * 1024 + block.length * 2, `held ${proxy.stats().upstream.bufferedBytes} bytes, bounded`);
  t.ok(proxy.stats().upstream.receivedBytes < total, 'the proxy stopped reading: the sender is back-pressured');
  proxy.setModes({ upstream: PASS });
  t.ok(await waitFor(() => echo.received().length === total + 1, 10000), 'every byte arrives after heal');
  t.equal(proxy.stats().upstream.droppedBytes, 0);
});

t.test('a dead target looks like a dead port: the client gets a reset', async (t) => {
  const { echo, proxy } = await setup(t);
  const live = await connectRecording(proxy.address);
  live.socket.write('a');
  t.ok(await waitFor(() => live.received() === 'a', 2000));
  await echo.close();
  t.ok(await waitFor(() => live.error() !== null || live.closed(), 2000), 'the open connection ends with its server');
  const client = await connectRecording(proxy.address);
  t.ok(await waitFor(() => client.error() !== null, 2000));
  t.equal(client.error()?.code, 'ECONNRESET');
  t.equal(proxy.stats().dialFailures, 1);
});

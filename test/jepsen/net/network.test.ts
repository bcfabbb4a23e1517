// Network: proxies per ordered pair, directed faults applied on every
// connection that carries the direction, against real loopback servers.
import t, { type Test } from 'tap';
import { performance } from 'node:perf_hooks';
import { linksBetween, linksOf, Network, NotListeningError, UnknownNodeError, DuplicateNodeError } from '../../../jepsen/net/index.js';
import { connectRecording, startEchoServer, waitFor, type EchoServer } from './tcp-helpers.js';

async function setup(t: Test, names: string[]) {
  const network = new Network();
  const servers = new Map<string, EchoServer>();
  for (const name of names) {
    const server = await startEchoServer();
    servers.set(name, server);
    network.addNode(name, server.address);
  }
  t.teardown(async () => {
    await network.close();
    for (const server of servers.values()) await server.close();
  });
  return { network, server: (name: string) => servers.get(name) as EchoServer };
}

t.test('one-way a->b: a\'s bytes to b dropped on both connections; b\'s bytes to a arrive', async (t) => {
  const { network, server } = await setup(t, ['a', 'b']);
  const aToB = await connectRecording(await network.addressFor('a', 'b')); // a is the client here
  const bToA = await connectRecording(await network.addressFor('b', 'a')); // b is the client here
  t.ok(await waitFor(() => server('b').sockets().length === 1 && server('a').sockets().length === 1, 2000));
  await network.oneWay('a', 'b');
  t.same(network.cutLinks(), [{ from: 'a', to: 'b' }]);

  aToB.socket.write('from-a');
  for (const socket of server('b').sockets()) socket.write('from-b');
  t.ok(await waitFor(() => aToB.received() === 'from-b', 2000), "b's bytes reach a on the connection a opened");
  bToA.socket.write('b-asks');
  t.ok(await waitFor(() => server('a').received() === 'b-asks', 2000), "b's bytes reach a on the connection b opened");
  t.notOk(await waitFor(() => server('b').received() !== '' || bToA.received() !== '', 300), "a's bytes never reach b, on either connection");
  t.equal(network.proxyFor('a', 'b')?.currentModes.upstream.kind, 'blackhole');
  t.equal(network.proxyFor('b', 'a')?.currentModes.downstream.kind, 'blackhole');
  t.equal(network.proxyFor('b', 'a')?.currentModes.upstream.kind, 'pass');

  await network.heal();
  t.ok(await waitFor(() => server('b').received() === 'from-a' && bToA.received() === 'b-asks', 2000), 'held bytes flow after heal');
});

t.test('isolate and partition cut the right links; nodes outside the groups keep talking', async (t) => {
  const { network } = await setup(t, ['r1', 'r2', 'r3', 'pg']);
  network.addNode('client');
  await network.isolate('r1');
  t.equal(network.cutLinks().length, 8, 'r1 is cut from r2, r3, pg and the client, both ways');
  t.equal(network.modeOf({ from: 'client', to: 'r2' }).kind, 'pass');
  await network.heal();
  await network.partition([['r1'], ['r2', 'r3']]);
  t.equal(network.cutLinks().length, 4);
  t.equal(network.modeOf({ from: 'r1', to: 'pg' }).kind, 'pass', 'pg is in no group and stays reachable');
  await network.bridge(['r1'], ['r3'], 'r2');
  await network.majoritiesRing(['r1', 'r2', 'r3']);
  t.ok(network.cutLinks().length >= 4, 'cuts add up until heal');
  await network.heal();
  t.same(network.cutLinks(), []);
});

t.test('delay and reset follow their selector', async (t) => {
  const { network } = await setup(t, ['a', 'b', 'c']);
  await network.delay(80, linksBetween(['a'], ['b']));
  t.equal(network.modeOf({ from: 'a', to: 'b' }).kind, 'delay');
  t.equal(network.modeOf({ from: 'b', to: 'a' }).kind, 'delay');
  t.equal(network.modeOf({ from: 'a', to: 'c' }).kind, 'pass');
  const client = await connectRecording(await network.addressFor('a', 'b'));
  const started = performance.now();
  client.socket.write('q');
  t.ok(await waitFor(() => client.received() === 'q', 3000, 1));
  const elapsedMs = performance.now() - started;
  t.ok(elapsedMs >= 160, `delayed both ways: ${elapsedMs.toFixed(1)} ms >= 160 ms`);

  const toC = await connectRecording(await network.addressFor('a', 'c'));
  await network.reset(linksOf('c'));
  t.ok(await waitFor(() => toC.error() !== null, 2000));
  t.equal(toC.error()?.code, 'ECONNRESET');
  t.equal(client.error(), null, 'a connection not involving c is untouched');
  t.ok((network.stats()['a->c']?.connectionsReset ?? 0) >= 1);
});

t.test('resetConnections resets live connections once; new ones pass', async (t) => {
  const { network, server } = await setup(t, ['a', 'b']);
  const address = await network.addressFor('a', 'b');
  const live = await connectRecording(address);
  network.addNode('idle');
  await network.resetConnections(linksOf('b'));
  t.ok(await waitFor(() => live.error() !== null, 2000));
  t.equal(live.error()?.code, 'ECONNRESET');
  t.equal(network.modeOf({ from: 'a', to: 'b' }).kind, 'pass', 'the reset is not left in place');
  const fresh = await connectRecording(address);
  fresh.socket.write('again');
  t.ok(await waitFor(() => fresh.received() === 'again', 2000), 'a new connection passes');
  t.ok(server('b').received().endsWith('again'));
  fresh.socket.destroy();
});

t.test('registry errors are typed', async (t) => {
  const { network } = await setup(t, ['a']);
  network.addNode('client');
  t.throws(() => network.addNode('a', '127.0.0.1:1'), DuplicateNodeError);
  await t.rejects(network.addressFor('a', 'nope'), UnknownNodeError);
  await t.rejects(network.addressFor('a', 'client'), NotListeningError);
  t.match(await network.endpointFor('client', 'a'), /^127\.0\.0\.1:\d+$/);
  t.equal(await network.endpointFor('client', 'a'), await network.endpointFor('client', 'a'), 'one proxy per ordered pair');
});

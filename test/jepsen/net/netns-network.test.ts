// The netns backend, for real: namespaces, a bridge, processes inside them,
// drop rules, cleanup. Runs only as root with iproute2; skipped otherwise.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { detectHostTools, netnsMissing, NetnsNetwork, NetnsUnavailableError, requireNetns, type DropMethod } from '../../../jepsen/net/index.js';
import { connect } from 'node:net';
import { waitFor } from './tcp-helpers.js';

const tools = detectHostTools();
const missing = netnsMissing(tools);
t.comment(`host tools: ${JSON.stringify(tools)}`);

t.test('requirements are checked with a precise error', async (t) => {
  t.throws(() => requireNetns({ root: false, ip: null, nft: null, iptables: null, unshare: null }), NetnsUnavailableError);
  try {
    requireNetns({ root: false, ip: null, nft: null, iptables: null, unshare: null });
  } catch (error) {
    t.equal((error as NetnsUnavailableError).missing.length, 2, 'both missing requirements are named');
    t.match((error as Error).message, /not root.*`ip` command/s);
  }
});

const childEnv = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return env;
};

// Prints "<sender ip> <message>" for each UDP datagram, and echoes TCP.
const SERVER = `
const [ip] = process.argv.slice(1);
const udp = require('node:dgram').createSocket('udp4');
udp.on('message', (m, r) => process.stdout.write(r.address + ' ' + m + '\\n'));
udp.bind(7001, ip, () => {
  require('node:net').createServer((s) => s.pipe(s)).listen(7000, ip, () => process.stdout.write('ready\\n'));
});`;
const SEND_UDP = `
const [ip, msg] = process.argv.slice(1);
const s = require('node:dgram').createSocket('udp4');
s.send(msg, 7001, ip, () => s.close());`;
const TCP_PROBE = `
const [ip] = process.argv.slice(1);
const s = require('node:net').connect(7000, ip);
const t = setTimeout(() => { process.stdout.write('timeout'); process.exit(0); }, 700);
s.on('connect', () => s.write('hi'));
s.on('data', (d) => { process.stdout.write('got ' + d); process.exit(0); });
s.on('error', (e) => { process.stdout.write('error ' + e.code); process.exit(0); });`;

function namespacesWith(prefix: string): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(`${prefix}-`));
}

const methods: DropMethod[] = tools.nft === null ? ['ip-rule'] : ['nft', 'ip-rule'];
if (tools.nft === null) t.comment('nft is not installed: only the ip-rule drop method is tested (apt-get install -y nftables)');

for (const dropMethod of methods) t.test(`partitions as drop rules between namespaces (${dropMethod})`, { skip: missing.length > 0 ? missing.join('; ') : false }, async (t) => {
  const prefix = `jnt${randomBytes(3).toString('hex')}`;
  t.comment(`prefix ${prefix}`);
  const network = await NetnsNetwork.create(['a', 'b', 'c'], { prefix, dropMethod });
  t.equal(network.dropMethod, dropMethod);
  t.teardown(() => network.close());
  t.equal(namespacesWith(prefix).length, 4, 'a hub and one namespace per node');

  const heard = new Map<string, string>();
  for (const node of network.nodes()) {
    heard.set(node, '');
    const child = network.spawn(node, process.execPath, ['-e', SERVER, network.ipOf(node)], { env: childEnv() });
    child.stdout?.on('data', (chunk: Buffer) => heard.set(node, (heard.get(node) ?? '') + chunk.toString()));
  }
  t.ok(await waitFor(() => [...heard.values()].every((out) => out.includes('ready')), 10_000), 'servers started in their namespaces');

  const send = (from: string, to: string, msg: string) =>
    network.exec(from, process.execPath, ['-e', SEND_UDP, network.ipOf(to), msg], { env: childEnv() });
  const arrived = (at: string, from: string, msg: string) => (heard.get(at) ?? '').includes(`${network.ipOf(from)} ${msg}\n`);
  const tcp = (from: string, to: string) => network.exec(from, process.execPath, ['-e', TCP_PROBE, network.ipOf(to)], { env: childEnv() });

  t.equal(await tcp('a', 'b'), 'got hi', 'a reaches b over TCP through the bridge');
  await send('a', 'b', 'm1');
  t.ok(await waitFor(() => arrived('b', 'a', 'm1'), 3000), 'a -> b before any fault');

  await network.cut([{ from: 'a', to: 'b' }]);
  t.same(network.cutLinks(), [{ from: 'a', to: 'b' }]);
  await send('a', 'b', 'm2');
  await send('b', 'a', 'm3');
  t.ok(await waitFor(() => arrived('a', 'b', 'm3'), 3000), "one-way a->b: b's datagrams still reach a");
  await send('a', 'c', 'm4');
  t.ok(await waitFor(() => arrived('c', 'a', 'm4'), 3000), 'a still reaches c');
  t.notOk(arrived('b', 'a', 'm2'), "a's datagram to b was dropped");
  t.equal(await tcp('a', 'b'), 'timeout', 'TCP from a to b times out (SYN dropped silently)');

  await network.heal();
  t.same(network.cutLinks(), []);
  await send('a', 'b', 'm5');
  t.ok(await waitFor(() => arrived('b', 'a', 'm5'), 3000), 'heal restores a -> b');
  t.equal(await tcp('a', 'b'), 'got hi');
  t.notOk(arrived('b', 'a', 'm2'), 'dropped, not delayed');

  await network.cut([{ from: 'c', to: 'a' }, { from: 'a', to: 'c' }]);
  t.equal(await tcp('c', 'a'), 'timeout', 'a two-way cut');
  t.equal(await tcp('b', 'c'), 'got hi', 'others unaffected');
  await network.heal();

  await network.close();
  t.same(namespacesWith(prefix), [], 'close removes every namespace of the run');
});

t.test('cleanupStale removes a crashed run: its processes and namespaces', { skip: missing.length > 0 ? missing.join('; ') : false }, async (t) => {
  const prefix = `jnt${randomBytes(3).toString('hex')}`;
  const abandoned = await NetnsNetwork.create(['x', 'y'], { prefix });
  const sleeper = abandoned.spawn('x', process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { env: childEnv() });
  t.ok(await waitFor(() => sleeper.pid !== undefined, 2000));
  // Simulate a crash: the object is dropped without close().
  const removed = await NetnsNetwork.cleanupStale(prefix);
  t.same(removed.sort(), [`${prefix}-hub`, `${prefix}-n0`, `${prefix}-n1`]);
  t.ok(await waitFor(() => sleeper.exitCode !== null || sleeper.signalCode !== null, 5000), 'the process left in the namespace is killed');
  t.same(namespacesWith(prefix), []);
});

/** Whether this process (in the host's namespace) can open a TCP connection to host:port within 700 ms. */
function hostReaches(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, 700);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

t.test('a host link: the host reaches every node, and cuts among nodes never cut the host', { skip: missing.length > 0 ? missing.join('; ') : false }, async (t) => {
  // jn + pid (at most 7 digits) + x + serial: within the 14 characters a host interface name allows.
  const prefix = NetnsNetwork.runPrefix('jn', 7);
  const subnet = await NetnsNetwork.freeSubnet();
  const network = await NetnsNetwork.create(['a', 'b'], { prefix, subnet, hostLink: true });
  t.teardown(() => network.close());
  t.equal(network.hostIp, `${subnet}.1`);
  let ready = 0;
  for (const node of network.nodes()) {
    const child = network.spawn(node, process.execPath, ['-e', SERVER, network.ipOf(node)], { env: childEnv() });
    child.stdout?.on('data', (chunk: Buffer) => (ready += chunk.toString().includes('ready') ? 1 : 0));
  }
  t.ok(await waitFor(() => ready === 2, 10_000), 'servers started');
  t.ok(await hostReaches(network.ipOf('a'), 7000), 'the host reaches a');
  await network.cut([{ from: 'a', to: 'b' }, { from: 'b', to: 'a' }]);
  t.equal(await network.exec('a', process.execPath, ['-e', TCP_PROBE, network.ipOf('b')], { env: childEnv() }), 'timeout', 'a and b are cut');
  t.ok(await hostReaches(network.ipOf('b'), 7000), 'the host still reaches b');
  await network.close();
  t.same(namespacesWith(prefix), []);
  t.notOk(execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' }).includes(`${prefix}h`), 'the host end of the link is gone');
});

t.test('cleanupDeadRuns removes runs whose process is gone, and spares live ones', { skip: missing.length > 0 ? missing.join('; ') : false }, async (t) => {
  const family = `jnd${randomBytes(2).toString('hex')}`;
  const live = await NetnsNetwork.create(['x'], { prefix: NetnsNetwork.runPrefix(family, 1) });
  t.teardown(() => live.close());
  // A pid that cannot be alive: above the kernel's pid_max.
  const deadPrefix = `${family}99999999x1`;
  await NetnsNetwork.create(['y'], { prefix: deadPrefix });
  const removed = await NetnsNetwork.cleanupDeadRuns(family);
  t.same(removed.sort(), [`${deadPrefix}-hub`, `${deadPrefix}-n0`]);
  t.equal(namespacesWith(live.prefix).length, 2, "the live run's namespaces stay");
});

// --net netns wired for real: routers and storage nodes each run inside their
// own network namespace and listen on its address; a cut between two storage
// namespaces stops their traffic while routers still reach both; router ->
// PostgreSQL stays behind a proxy on the host link (cut and delayed there);
// delays between namespaces are refused; and nothing of the run is left
// behind, after a stop or after SIGINT. Root only (CI runs as root).
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import t from 'tap';
import { ClusterObserver, NetnsClusterNetwork, POSTGRES_NODE, TestCluster } from '../../../jepsen/harness/index.js';
import { netnsMissing, parseHostPort } from '../../../jepsen/net/index.js';

const missing = netnsMissing();
const skip = missing.length > 0 ? `netns needs root and iproute2: ${missing.join('; ')}` : false;

const childEnv = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return env;
};

const TCP_CONNECT = `
const [host, port] = process.argv.slice(1);
const s = require('node:net').connect(Number(port), host);
const t = setTimeout(() => { process.stdout.write('timeout'); process.exit(0); }, 1500);
s.on('connect', () => { process.stdout.write('connected'); process.exit(0); });
s.on('error', (e) => { process.stdout.write('error ' + e.code); process.exit(0); });`;

function namespacesWith(prefix: string): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(`${prefix}-`));
}

t.test('a cluster in namespaces: placement, storage-to-storage cuts, the PostgreSQL proxy, cleanup', { skip, timeout: 90_000 }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'jepsen-netns-'));
  chmodSync(dir, 0o755);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cluster = await TestCluster.start({ dir, routers: 3, storages: 2, monitorIntervalMs: 500, tickMs: 100, electionTicks: 10, net: 'netns' });
  const observer = new ClusterObserver(cluster, { pollIntervalMs: 250, now: () => 0 });
  let stopped = false;
  t.teardown(async () => {
    observer.close();
    if (!stopped) await cluster.stop();
  });
  t.ok(cluster.network instanceof NetnsClusterNetwork, 'the netns network');
  const network = cluster.network as NetnsClusterNetwork;
  const namespaces = network.namespaces;
  t.ok(await observer.waitHealthy(60_000), 'the cluster becomes healthy with every process in its namespace');

  for (const member of [...cluster.cluster.routers, ...cluster.cluster.storages]) {
    const pid = member.process.pid!;
    t.equal(execFileSync('ip', ['netns', 'identify', String(pid)], { encoding: 'utf8' }).trim(), namespaces.namespaceOf(member.name), `${member.name} (pid ${pid}) runs in its namespace`);
    t.equal(parseHostPort(member.address).host, namespaces.ipOf(member.name), `${member.name} listens on its namespace's address`);
  }
  t.equal(cluster.clientAddressOf('praefect-1'), cluster.cluster.router('praefect-1').address, 'clients reach routers directly over the host link');

  const probe = (from: string, to: string): Promise<string> => {
    const target = parseHostPort(cluster.cluster.storage(to).address);
    return namespaces.exec(from, process.execPath, ['-e', TCP_CONNECT, target.host, String(target.port)], { env: childEnv() });
  };
  t.equal(await probe('gitaly-1', 'gitaly-2'), 'connected', 'a storage node reaches another one directly');
  await network.cut([{ from: 'gitaly-1', to: 'gitaly-2' }, { from: 'gitaly-2', to: 'gitaly-1' }, { from: 'praefect-1', to: POSTGRES_NODE }]);
  t.equal(await probe('gitaly-1', 'gitaly-2'), 'timeout', 'the storage-to-storage cut drops silently');
  t.equal(await probe('praefect-1', 'gitaly-2'), 'connected', 'routers still reach the cut nodes');
  t.same(network.proxied.cutLinks(), [{ from: 'praefect-1', to: POSTGRES_NODE }], 'the PostgreSQL link is cut at its proxy');
  t.same(namespaces.cutLinks().length, 2, 'the storage links are cut by drop rules');
  await t.rejects(network.delay(100, (l) => l.from === 'praefect-1' && l.to === 'gitaly-1'), { code: 'NET_UNSUPPORTED_FAULT' }, 'a delay between namespaces is refused');
  await network.delay(100, (l) => l.to === POSTGRES_NODE);
  t.equal(network.proxied.modeOf({ from: 'praefect-2', to: POSTGRES_NODE }).kind, 'delay', 'router -> PostgreSQL is delayed at its proxy');
  await network.heal();
  t.equal(await probe('gitaly-1', 'gitaly-2'), 'connected', 'healed');

  await cluster.stop();
  stopped = true;
  t.same(namespacesWith(namespaces.prefix), [], 'stop removes every namespace of the run');
  t.notOk(execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' }).includes(`${namespaces.prefix}h`), 'and the host end of the host link');
});

t.test('SIGINT removes the namespaces of a run in progress', { skip, timeout: 30_000 }, async (t) => {
  const dist = (file: string): string => pathToFileURL(path.resolve('dist', file)).href;
  const script = `
    const { NetnsNetwork } = await import(${JSON.stringify(dist('jepsen/net/index.js'))});
    const { onInterrupt } = await import(${JSON.stringify(dist('jepsen/harness/interrupt-cleanup.js'))});
    const network = await NetnsNetwork.create(['a', 'b'], { prefix: NetnsNetwork.runPrefix('jq', 1), subnet: await NetnsNetwork.freeSubnet(), hostLink: true });
    onInterrupt(() => network.close());
    process.stdout.write(network.prefix + '\\n');
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: childEnv(), stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
  const prefix = chunk.toString().trim();
  t.equal(namespacesWith(prefix).length, 3, `the run ${prefix} made a hub and two namespaces`);
  child.kill('SIGINT');
  const [code] = (await once(child, 'exit')) as [number | null];
  t.equal(code, 130, 'the harness exits 130 after cleaning up');
  t.same(namespacesWith(prefix), [], 'no namespace left');
  t.notOk(execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' }).includes(`${prefix}h`), 'no host interface left');
});

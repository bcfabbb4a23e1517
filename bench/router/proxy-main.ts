// One proxy of the comparison, its own process. Prints {"address": ...}
// once listening and runs until SIGTERM.
// Usage: node proxy-main.js <router|bare|h2> <node address> <node token> [<storage> <replica path>]
import { startForwardingServer, startH2ForwardingServer } from '../../src/proxy/index.js';
import { startBareProxy } from './bare-proxy.js';
import { BENCH_PHYSICAL_REPOSITORY, benchRouter, type PhysicalRepository, type ProxyMode } from './bench-setup.js';

async function start(mode: ProxyMode, nodeAddress: string, token: string, physical: PhysicalRepository): Promise<{ address: string; close(): unknown }> {
  if (mode === 'bare') return startBareProxy(nodeAddress);
  if (mode === 'router') return startForwardingServer({ router: benchRouter(nodeAddress, token, physical), auth: { token } });
  if (mode === 'h2') return startH2ForwardingServer({ router: benchRouter(nodeAddress, token, physical), auth: { token } });
  throw new Error(`unknown proxy mode ${mode}`);
}

const [mode, nodeAddress, token, storage, replicaPath] = process.argv.slice(2);
if (mode === undefined || nodeAddress === undefined || token === undefined) {
  process.stderr.write('usage: proxy-main.js <router|bare|h2> <node address> <node token> [<storage> <replica path>]\n');
  process.exit(2);
}
const physical = storage !== undefined && replicaPath !== undefined ? { storage, replicaPath } : BENCH_PHYSICAL_REPOSITORY;
const proxy = await start(mode as ProxyMode, nodeAddress, token, physical);
process.stdout.write(`${JSON.stringify({ address: proxy.address })}\n`);
process.once('SIGTERM', () => {
  void Promise.resolve(proxy.close()).finally(() => process.exit(0));
});

import { rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import type { NodeId } from '../raft/index.js';
import { LocalGroup } from './local-group.js';

const say = (line: string) => console.log(`[demo] ${line}`);

function describeLog(id: NodeId, line: string): string | undefined {
  try {
    const entry = JSON.parse(line) as { msg?: string; role?: string; leader?: number; term?: number; level?: number };
    if (entry.msg === 'raft role changed') return `node ${id}: ${entry.role} in term ${entry.term}, leader ${entry.leader || 'unknown'}`;
    if ((entry.level ?? 0) >= 50) return `node ${id}: ${entry.msg ?? line}`;
    return undefined;
  } catch {
    return `node ${id}: ${line}`;
  }
}

/** `npm start` for now: a 3-member Raft group on loopback that elects, commits, survives a SIGKILL of its leader and catches up. */
export async function main(argv: string[]): Promise<void> {
  const args = await yargs(hideBin(argv))
    .scriptName('raft-demo')
    .usage('$0 [--data-dir DIR] [--base-port N] [--exit]')
    .option('data-dir', { type: 'string', default: path.join('data', 'raft-demo'), describe: 'folder for every member’s data' })
    .option('base-port', { type: 'number', default: 7101, describe: 'members listen on base-port, base-port+1, ...' })
    .option('size', { type: 'number', default: 3, describe: 'members in the group' })
    .option('fresh', { type: 'boolean', default: true, describe: 'wipe the data folder first (--no-fresh resumes)' })
    .option('exit', { type: 'boolean', default: false, describe: 'stop the group after the walkthrough instead of running until Ctrl-C' })
    .strict()
    .help()
    .parse();
  if (args.fresh) rmSync(args['data-dir'], { recursive: true, force: true });
  const group = new LocalGroup({ size: args.size, dataDir: args['data-dir'], basePort: args['base-port'], onLog: (id, line) => {
    const text = describeLog(id, line);
    if (text) console.log(`  ${text}`);
  } });
  const shutdown = async (code: number) => {
    say('stopping every member');
    await group.stopAll();
    process.exit(code);
  };
  process.once('SIGINT', () => void shutdown(0));
  try {
    await walkthrough(group);
  } catch (error) {
    say(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
    await shutdown(1);
  }
  if (args.exit) await shutdown(0);
  say(`the group keeps running; members: ${[...group.members].map(([id, a]) => `${id}=${a}`).join(' ')}. Ctrl-C stops it.`);
}

/** Refuses to start on a port something else holds: its answers would be mistaken for our members'. */
async function checkPortFree(address: string): Promise<void> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  await new Promise<void>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', () => reject(new Error(`${address} is already in use; pick other ports with --base-port`)));
    server.listen(port, host, () => server.close(() => resolve()));
  });
}

async function walkthrough(group: LocalGroup): Promise<void> {
  for (const address of group.members.values()) await checkPortFree(address);
  say(`starting ${group.members.size} members: ${[...group.members.values()].join(', ')}`);
  group.startAll();
  const first = await group.waitForLeader(20_000);
  say(`leader elected: node ${first.leader} in term ${first.term}`);

  for (const id of group.members.keys()) {
    await group.client(id).put(`greeting-${id}`, `hello from a client of node ${id}`);
  }
  const statuses = await group.statuses();
  say(`committed one put through each member (followers forward to the leader); commit index per member: ${[...statuses.values()].map((s) => `${s.id}:${s.commit}`).join(' ')}`);

  const follower = [...group.members.keys()].find((id) => id !== first.leader)!;
  const read = await group.client(follower).get(`greeting-${first.leader}`);
  say(`linearizable read at follower ${follower}: "${read.value}" (applied index ${read.applied_index})`);

  say(`SIGKILL the leader, node ${first.leader}`);
  const killedAt = performance.now();
  await group.kill(first.leader);
  const next = await group.waitForLeader(20_000, first.leader);
  await group.client(next.leader).put('after-failover', 'still writable');
  say(`node ${next.leader} leads term ${next.term}; first write committed ${(performance.now() - killedAt).toFixed(0)} ms after the kill`);

  say(`restarting node ${first.leader}; it catches up from its LevelDB log and the leader`);
  group.start(first.leader);
  const target = (await group.client(next.leader).status()).commit;
  await LocalGroup.waitFor(`node ${first.leader} to catch up`, 20_000, async () => {
    const s = await group.client(first.leader).status(500).catch(() => undefined);
    return s !== undefined && s.applied >= target;
  });
  const value = await group.client(first.leader).get('after-failover');
  say(`node ${first.leader} is back with applied index ≥ ${target} and reads "${value.value}"`);
}

// Raft membership from the operator CLI, end to end: a fourth router started
// with [raft] join = true founds no group of its own; `members add-learner`
// tells every router its address (kept in their data dirs) and adds it; it
// catches up, is promoted, keeps being reached by a founder restarted since
// (from its data dir), serves a read through its own listener, and is
// removed again.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { AdminClient, type RaftStatusResponse } from '../../src/admin/index.js';
import { freePort } from '../../src/db/free-port.js';
import { ManagedProcess } from '../../src/local-cluster/index.js';
import { findProjectRoot } from '../../src/protocol/index.js';
import { runCli, type CliResult } from '../cli/fixtures/run-cli.js';
import { Rpc } from '../gitaly/fixtures/rpc.js';
import { repo, startCluster, waitFor } from './fixtures/cluster.js';

const NEW_ID = 4;

/** Router 1's configuration, rewritten by hand for a new router that joins: its own ports, node id and data dir, and join = true. */
function joiningConfig(template: string, ports: { client: number; raft: number; metrics: number }, raftDir: string): string {
  const host = '127.0.0.1';
  const replaced = template
    .replace(/^listen_addr = .*$/m, `listen_addr = "${host}:${ports.client}"`)
    .replace(/^prometheus_listen_addr = .*$/m, `prometheus_listen_addr = "${host}:${ports.metrics}"`)
    .replace(/^node_id = .*$/m, `node_id = ${NEW_ID}\njoin = true`)
    .replace(/^data_dir = .*$/m, `data_dir = ${JSON.stringify(raftDir)}`)
    .replace(/^peers = \[(.*)\]$/m, (_line, list: string) => `peers = [${list}, { id = ${NEW_ID}, address = "${host}:${ports.raft}" }]`);
  if (replaced === template || !replaced.includes('join = true') || !replaced.includes(`id = ${NEW_ID},`)) throw new Error('router 1\'s configuration has an unexpected shape');
  return replaced;
}

t.test('a router joins the Raft group from the CLI, is promoted, serves, and is removed', async (t) => {
  const { cluster, admins, dir } = await startCluster(t);
  const ports = { client: await freePort('127.0.0.1'), raft: await freePort('127.0.0.1'), metrics: await freePort('127.0.0.1') };
  const routerDir = path.join(dir, `praefect-${NEW_ID}`);
  mkdirSync(routerDir, { recursive: true });
  const configFile = path.join(routerDir, 'config.toml');
  writeFileSync(configFile, joiningConfig(readFileSync(cluster.routers[0]!.configFile, 'utf8'), ports, path.join(routerDir, 'raft')), { mode: 0o600 });
  const joiner = new ManagedProcess({
    name: `praefect-${NEW_ID}`,
    modulePath: path.join(findProjectRoot(), 'dist', 'src', 'cli', 'index.js'),
    exportName: 'runPraefectCli',
    args: ['--config', configFile, 'serve'],
    logFile: path.join(dir, 'logs', `praefect-${NEW_ID}.log`),
    readyMessage: 'router listening',
    readyTimeoutMs: 60_000,
  });
  await joiner.start();
  const joinerAddress = `127.0.0.1:${ports.client}`;
  const joinerAdmin = new AdminClient(joinerAddress, { token: cluster.layout.token });
  const joinerRpc = new Rpc(joinerAddress, cluster.layout.token);
  t.teardown(async () => {
    joinerAdmin.close();
    joinerRpc.close();
    await joiner.stop();
  });
  const raftAddress = `127.0.0.1:${ports.raft}`;
  const cli = (...args: string[]): Promise<CliResult> => runCli('cluster', [...args, '--dir', dir]);
  const okCli = async (...args: string[]): Promise<CliResult> => {
    const r = await cli(...args);
    t.equal(r.code, 0, `${args.slice(0, 2).join(' ')} exits 0 (stderr: ${r.stderr.trim()})`);
    return r;
  };

  const alone = await joinerAdmin.raftStatus();
  t.same([alone.voters, alone.learners, alone.leader], [[], [], 0], 'with join = true the router founds no group: no members, no leader');

  const added = await okCli('members', 'add-learner', '--id', String(NEW_ID), '--raft-address', raftAddress);
  t.match(added.stdout, `add-learner ${NEW_ID}: done; voters 1, 2, 3; learners ${NEW_ID}`);
  for (const r of cluster.routers) {
    const learned = JSON.parse(readFileSync(path.join(dir, r.name, 'raft', 'learned-peers.json'), 'utf8')) as Record<string, string>;
    t.same(learned, { [NEW_ID]: raftAddress }, `${r.name} keeps the new member's address in its data dir`);
  }

  const leaderCommit = await waitFor('a leader', async () => {
    const statuses = await Promise.all(admins.map((a) => a.raftStatus()));
    return statuses.find((s) => s.role === 'leader')?.commit;
  });
  const caughtUp: RaftStatusResponse = await waitFor('the learner to catch up', async () => {
    const s = await joinerAdmin.raftStatus();
    return s.applied >= leaderCommit && s.learners.includes(NEW_ID) ? s : undefined;
  });
  t.same(caughtUp.voters, [1, 2, 3], 'the learner applied the group\'s configuration');
  t.equal(caughtUp.role, 'follower');

  const promoted = await okCli('members', 'promote', '--id', String(NEW_ID));
  t.match(promoted.stdout, `promote ${NEW_ID}: done; voters 1, 2, 3, ${NEW_ID}; learners -`);
  const asVoter = await waitFor('the new router to see itself a voter', async () => {
    const s = await joinerAdmin.raftStatus();
    return s.voters.includes(NEW_ID) ? s : undefined;
  });
  t.same(asVoter.voters, [1, 2, 3, NEW_ID]);
  t.ok(asVoter.leader > 0, 'it knows the leader');
  const list = await runCli('cluster', ['members', 'list', '--json', '--dir', dir, ...cluster.routers.flatMap((r) => ['--router', r.address]), '--router', joinerAddress]);
  t.equal(list.code, 0);
  const members = (JSON.parse(list.stdout) as { members: { id: number; suffrage: string; reachable: boolean }[] }).members;
  t.same(members.map((m) => [m.id, m.suffrage, m.reachable]), [[1, 'voter', true], [2, 'voter', true], [3, 'voter', true], [NEW_ID, 'voter', true]]);

  // A restarted founder knows the new member's address only from its data dir: make it the leader, which must then reach the new router.
  const follower = cluster.routers.find((r) => r.id !== asVoter.leader)!;
  await follower.process.stop();
  await follower.process.start();
  // A transfer waits for the target to catch up, within its own deadline: on a loaded machine a just-restarted router may need longer.
  await waitFor(`restarted router ${follower.id} caught up`, async () => {
    const [mine, leaders] = await Promise.all([admins[follower.id - 1]!.raftStatus(), admins[asVoter.leader - 1]!.raftStatus()]);
    return mine.applied >= leaders.commit ? true : undefined;
  });
  const moved = await okCli('transfer-leader', '--to', String(follower.id));
  t.match(moved.stdout, `leader is now ${follower.id}`);
  await okCli('create-repository', '--relative-path', 'join/read.git');
  const leaderNow = await admins[follower.id - 1]!.raftStatus();
  t.equal(leaderNow.role, 'leader');
  // A new leader's progress starts at match 0: only the new router's own acknowledgements move it.
  const reached = await waitFor(`restarted leader ${follower.id} to replicate to the new router`, async () => {
    const s = await admins[follower.id - 1]!.raftStatus();
    const match = s.progress.find((p) => p.id === NEW_ID)?.match ?? 0;
    return match >= leaderNow.commit ? match : undefined;
  }, 15_000);
  t.ok(reached >= leaderNow.commit, `the new router acknowledged up to ${reached}`);
  const exists = await waitFor('a read through the new router', async () => {
    const answer = await joinerRpc.unary<{ exists: boolean }>('/gitaly.RepositoryService/RepositoryExists', { repository: repo('join/read.git') });
    return answer.exists ? answer : undefined;
  });
  t.same(exists, { exists: true }, 'the new router routes a read');

  const removed = await okCli('members', 'remove', '--id', String(NEW_ID));
  t.match(removed.stdout, `remove ${NEW_ID}: done; voters 1, 2, 3; learners -`);
  const after = await admins[0]!.raftStatus();
  t.same([after.voters, after.learners], [[1, 2, 3], []], 'the group is back to its founders');
});

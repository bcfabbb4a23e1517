// bin/cluster and bin/praefect -config against one running cluster of real
// processes: status (JSON shape and tables), the upstream-named operator
// commands, Raft membership and leadership, then status with PostgreSQL
// stopped and with the source router cut off from its peers.
import t, { type Test } from 'tap';
import type { StatusReport } from '../../src/cli/cluster-status.js';
import type { MembersReport } from '../../src/cli/cluster-operator-commands.js';
import { Rpc } from '../gitaly/fixtures/rpc.js';
import { startCluster, waitFor } from '../praefect/fixtures/cluster.js';
import { runCli, type CliResult } from './fixtures/run-cli.js';

const ok = (t: Test, r: CliResult, what: string): void => void t.equal(r.code, 0, `${what} exits 0 (stderr: ${r.stderr.trim()})`);

t.test('operating a running cluster', async (t) => {
  const { cluster, admins, dir } = await startCluster(t);
  const cli = (...args: string[]): Promise<CliResult> => runCli('cluster', [...args, '--dir', dir]);

  t.test('status --json', async (t) => {
    await waitFor('every router to see every storage healthy', async () => {
      const state = await admins[0]!.clusterState(true);
      return state.storages.every((s) => s.healthy_votes === 3) && state.routers.every((r) => r.views.length === 3) ? true : undefined;
    });
    const r = await cli('status', '--json');
    ok(t, r, 'status');
    const report = JSON.parse(r.stdout) as StatusReport;
    t.equal(report.fresh, true, 'fresh through a router with quorum');
    t.equal(report.fresh_error, '');
    t.equal(report.raft.members.length, 3, 'every router asked');
    t.ok(report.raft.members.every((m) => m.reachable && m.id > 0 && m.term === report.raft.term), 'every member answers at one term');
    t.equal(report.raft.members.filter((m) => m.role === 'leader').length, 1, 'one leader');
    t.ok(report.raft.leader > 0);
    t.same([...report.raft.voters].sort(), [1, 2, 3]);
    t.ok(report.raft.members.every((m) => m.commit > 0 && m.applied > 0 && m.lag >= 0), 'commit, applied and lag per member');
    t.equal(report.storages.length, 3);
    t.ok(report.storages.every((s) => s.healthy && s.healthy_votes === 3 && s.views.length === 3 && s.since_ms > 0), 'each storage: verdict, votes, since, every router\'s view');
    t.match(report.repositories, { total: Number, read_only: 0, unavailable: 0, with_outdated_replicas: Number });
    t.ok(report.raft.members.every((m) => m.transactions_in_flight === 0), 'no reference transaction open at rest');
    t.match(report.write_intents, { total: 0, stale_total: 0, stale: [] });
    t.ok(report.write_intents.stale_age_ms > 0, 'the age from which an intent is stale');
    t.equal(report.replication_queue.database_up, true, 'the queue is read from PostgreSQL');
    t.type(report.replication_queue.depth, Array);
    t.type(report.replication_queue.dead, Array);
  });

  t.test('status as tables', async (t) => {
    const r = await cli('status');
    ok(t, r, 'status');
    t.match(r.stdout, /: fresh \(caught up with the Raft group\)/);
    t.match(r.stdout, /Raft group: leader \d \(router-\d\), term \d+; voters 1, 2, 3/);
    t.match(r.stdout, /ID\s+ROUTER\s+ADDRESS\s+ROLE\s+TERM\s+COMMIT\s+APPLIED\s+LAG\s+TX\s+LAST CONTACT/);
    t.match(r.stdout, /Writes in flight: 0 write intents, 0 reference transactions \(TX per router above\); 0 intents older than \d+ s/);
    t.match(r.stdout, /default\s+gitaly-1\s+healthy\s+3\/3/);
    t.match(r.stdout, /Repositories: \d+ total, 0 read-only, 0 unavailable/);
    t.match(r.stdout, /Replication queue \(PostgreSQL up\)/);
  });

  t.test('storage node commands', async (t) => {
    const [dial, list, check] = await Promise.all([cli('dial-nodes', '--timeout', '5s'), cli('list-storages'), cli('check')]);
    ok(t, dial, 'dial-nodes');
    t.equal(dial.stdout.match(/: SUCCESS: healthy/g)?.length, 3, 'every node answered');
    ok(t, list, 'list-storages');
    t.match(list.stdout, /VIRTUAL STORAGE\s+NODE\s+ADDRESS\s+QUORUM\s+THIS ROUTER/);
    t.equal(list.stdout.match(/healthy\s+reachable/g)?.length, 3);
    ok(t, check, 'check');
    t.match(check.stdout, /Checking that the database answers\.\.\. Passed/);
    t.match(check.stdout, /All checks passed\./);
  });

  t.test('repository commands', async (t) => {
    // The secondaries would get their copies by replication within moments: with their nodes
    // down they stay outdated (and unhealthy) while the commands look at them.
    const down = [cluster.storage('gitaly-2'), cluster.storage('gitaly-3')];
    await Promise.all(down.map((s) => s.process.kill()));
    t.teardown(async () => {
      for (const s of down) if (!s.process.running) await s.process.start();
    });
    await waitFor('gitaly-2 and gitaly-3 unhealthy by quorum', async () => {
      const state = await admins[0]!.clusterState(true);
      return down.every((d) => state.storages.find((s) => s.storage === d.name)?.healthy === false) ? true : undefined;
    });
    const created = await cli('create-repository', '--relative-path', 'ops/outdated.git');
    ok(t, created, 'create-repository');
    const meta = await admins[0]!.repositoryMetadata({ virtual_storage: 'default', relative_path: 'ops/outdated.git', fresh: true });
    const primary = meta.primary;
    t.equal(primary, 'gitaly-1', 'the only healthy storage is the primary');
    const others = ['gitaly-2', 'gitaly-3'];

    const [dataloss, full, upstreamSpelling, metadata] = await Promise.all([
      cli('dataloss', '--partially-unavailable'),
      cli('dataloss'),
      runCli('praefect', ['-config', cluster.routers[1]!.configFile, 'dataloss', '-virtual-storage', 'default', '-partially-unavailable']),
      cli('metadata', '--relative-path', 'ops/outdated.git'),
    ]);
    ok(t, dataloss, 'dataloss');
    t.match(dataloss.stdout, 'Virtual storage: default\n  Repositories:\n');
    t.match(dataloss.stdout, `    ops/outdated.git:\n      Primary: ${primary}\n      In-Sync Storages:\n        ${primary}, assigned host\n      Outdated Storages:\n`);
    for (const s of others) t.match(dataloss.stdout, `        ${s} is behind by 1 change or less, assigned host, unhealthy\n`, `${s} is listed as outdated`);
    ok(t, full, 'dataloss without --partially-unavailable');
    t.equal(full.stdout, 'Virtual storage: default\n  All repositories are available!\n', 'a writable repository with a valid primary is not data loss');

    ok(t, upstreamSpelling, 'praefect -config FILE dataloss');
    t.equal(upstreamSpelling.stdout, dataloss.stdout, 'bin/praefect prints the same through its local router');

    ok(t, metadata, 'metadata');
    t.match(metadata.stdout, `Repository ID: ${meta.repository_id}\nVirtual Storage: "default"\nRelative Path: "ops/outdated.git"`);
    t.match(metadata.stdout, `- Storage: "${others[0]}"\n  Assigned: true\n  Generation: replica not yet created\n`);

    const [noReplica, unknownStorage] = await Promise.all([
      cli('accept-dataloss', '--repository', 'ops/outdated.git', '--authoritative-storage', others[0]!),
      cli('accept-dataloss', '--repository', 'ops/outdated.git', '--authoritative-storage', 'gitaly-9'),
    ]);
    t.equal(noReplica.code, 1, 'accept-dataloss onto a storage without a replica fails');
    t.match(noReplica.stderr, `FAILED_PRECONDITION: authoritative_storage: ${others[0]} holds no replica of default/ops/outdated.git`);
    t.equal(unknownStorage.code, 1);
    t.match(unknownStorage.stderr, /INVALID_ARGUMENT: authoritative_storage: "gitaly-9" is not a storage of virtual storage "default"/);
    const accepted = await cli('accept-dataloss', '--repository', 'ops/outdated.git', '--authoritative-storage', primary);
    ok(t, accepted, 'accept-dataloss');
    t.match(accepted.stdout, new RegExp(`accepted data loss: ${primary} is authoritative for default/ops/outdated.git \\(repository ${meta.repository_id}\\) at generation \\d+`));
    const after = await admins[1]!.repositoryMetadata({ repository_id: meta.repository_id, fresh: true });
    t.equal(after.replicas.find((r) => r.storage === primary)?.generation, after.generation, 'the authoritative copy is on the latest generation');

    const factor = await cli('set-replication-factor', '--repository', 'ops/outdated.git', '--replication-factor', '2');
    ok(t, factor, 'set-replication-factor');
    const assigned = /current assignments: (.*)\n/.exec(factor.stdout)?.[1]?.split(', ') ?? [];
    t.equal(assigned.length, 2, 'two storages assigned');
    t.ok(assigned.includes(primary), 'the primary stays assigned');
    const [tooMany, missing] = await Promise.all([
      cli('set-replication-factor', '--repository', 'ops/outdated.git', '--replication-factor', '4'),
      cli('set-replication-factor', '--repository', 'ops/missing.git', '--replication-factor', '2'),
    ]);
    t.equal(tooMany.code, 1);
    t.match(tooMany.stderr, /INVALID_ARGUMENT: replication_factor: 4 exceeds the 3 storages/);
    t.equal(missing.code, 1);
    t.match(missing.stderr, /NOT_FOUND: relative_path: repository not found: default\/ops\/missing\.git/);
    await Promise.all(down.map((s) => s.process.start()));
    await waitFor('gitaly-2 and gitaly-3 healthy again', async () => {
      const state = await admins[0]!.clusterState(true);
      return down.every((d) => state.storages.find((s) => s.storage === d.name)?.healthy === true) ? true : undefined;
    });
  });

  t.test('track-repository adds a repository found on a storage node', async (t) => {
    const node = new Rpc(cluster.storages[1]!.address, cluster.layout.token);
    t.teardown(() => node.close());
    await node.unary('/gitaly.RepositoryService/CreateRepository', { repository: { storage_name: 'gitaly-2', relative_path: 'ops/found.git' } });
    const tracked = await cli('track-repository', '--repository', 'ops/found.git', '--authoritative-storage', 'gitaly-2');
    ok(t, tracked, 'track-repository');
    t.match(tracked.stdout, /tracked default\/ops\/found\.git as repository \d+; primary gitaly-2; assigned gitaly-2, gitaly-1, gitaly-3/);
    const meta = await admins[2]!.repositoryMetadata({ virtual_storage: 'default', relative_path: 'ops/found.git', fresh: true });
    t.equal(meta.primary, 'gitaly-2');
    t.equal(meta.replica_path, 'ops/found.git', 'the replica stays where it was found');
    const twice = await cli('track-repository', '--repository', 'ops/found.git', '--authoritative-storage', 'gitaly-2');
    t.equal(twice.code, 1);
    t.match(twice.stderr, /ALREADY_EXISTS: relative_path: default\/ops\/found\.git is already tracked/);
    const absent = await cli('track-repository', '--repository', 'ops/absent.git', '--authoritative-storage', 'gitaly-2');
    t.equal(absent.code, 1);
    t.match(absent.stderr, /FAILED_PRECONDITION: authoritative_storage: gitaly-2 holds no repository at ops\/absent\.git/);
  });

  t.test('remove-repository is a dry run unless --apply', async (t) => {
    ok(t, await cli('create-repository', '--relative-path', 'ops/removed.git'), 'create-repository');
    const dry = await cli('remove-repository', '--repository', 'ops/removed.git');
    ok(t, dry, 'the dry run');
    t.match(dry.stdout, /dry run: would remove default\/ops\/removed\.git \(repository \d+, replica path @cluster\/repositories\/[^)]+\) from the cluster state and the database/);
    t.match(dry.stdout, /re-run with --apply/);
    ok(t, await cli('metadata', '--relative-path', 'ops/removed.git'), 'after the dry run the repository is still there');
    const applied = await cli('remove-repository', '--repository', 'ops/removed.git', '--apply');
    ok(t, applied, 'remove-repository --apply');
    t.match(applied.stdout, /removed default\/ops\/removed\.git \(repository \d+\) from the cluster; queued deletion of its replicas on gitaly-\d/);
    const gone = await cli('metadata', '--relative-path', 'ops/removed.git');
    t.equal(gone.code, 1, 'metadata of the removed repository fails');
    t.match(gone.stderr, /NOT_FOUND: repository not found: default\/ops\/removed\.git/);
    const again = await cli('remove-repository', '--repository', 'ops/removed.git');
    t.equal(again.code, 1);
    t.match(again.stderr, /NOT_FOUND/);
  });

  t.test('Raft members and leadership', async (t) => {
    const list = await cli('members', 'list', '--json');
    ok(t, list, 'members list');
    const members = JSON.parse(list.stdout) as MembersReport;
    t.same(members.members.map((m) => [m.id, m.suffrage, m.reachable]), [[1, 'voter', true], [2, 'voter', true], [3, 'voter', true]]);
    t.equal(members.members.filter((m) => m.role === 'leader').length, 1);
    const table = await cli('members', 'list');
    ok(t, table, 'members list as a table');
    t.match(table.stdout, /ID\s+MEMBER\s+ROUTER\s+ADDRESS\s+ROLE\n1\s+voter\s+router-1/);

    const [notLearner, noAddress] = await Promise.all([cli('members', 'promote', '--id', '2'), cli('members', 'add-learner', '--id', '4')]);
    t.equal(notLearner.code, 1, 'promoting a voter fails');
    t.match(notLearner.stderr, /FAILED_PRECONDITION: node_id: node 2 is not a learner/);
    t.equal(noAddress.code, 2);
    t.match(noAddress.stderr, /--raft-address is required/);

    const target = members.members.find((m) => m.role !== 'leader')!.id;
    const moved = await cli('transfer-leader', '--to', String(target));
    ok(t, moved, 'transfer-leader');
    t.match(moved.stdout, new RegExp(`leader is now ${target} \\(term \\d+\\)`));
    const status = await admins[target - 1]!.raftStatus();
    t.equal(status.role, 'leader', 'the chosen router leads');
    const notVoter = await cli('transfer-leader', '--to', '7');
    t.equal(notVoter.code, 1);
    t.match(notVoter.stderr, /INVALID_ARGUMENT: to: node 7 is not a voter/);
  });

  t.test('list-untracked-repositories lists what is on disk but not in the database', async (t) => {
    const [one, three] = [new Rpc(cluster.storages[0]!.address, cluster.layout.token), new Rpc(cluster.storages[2]!.address, cluster.layout.token)];
    t.teardown(() => [one, three].forEach((n) => n.close()));
    await one.unary('/gitaly.RepositoryService/CreateRepository', { repository: { storage_name: 'gitaly-1', relative_path: 'stray/one.git' } });
    await three.unary('/gitaly.RepositoryService/CreateRepository', { repository: { storage_name: 'gitaly-3', relative_path: 'stray/deep/two.git' } });
    ok(t, await cli('create-repository', '--relative-path', 'ops/tracked.git'), 'create-repository');
    const tracked = await admins[0]!.repositoryMetadata({ virtual_storage: 'default', relative_path: 'ops/tracked.git', fresh: true });

    const r = await cli('list-untracked-repositories', '--older-than', '0');
    ok(t, r, 'list-untracked-repositories');
    const [header, ...lines] = r.stdout.split('\n').filter((l) => l !== '');
    t.equal(header, 'The following repositories were found on disk, but missing from the tracking database:');
    const listed = lines.map((l) => JSON.parse(l) as { relative_path: string; storage: string; virtual_storage: string });
    t.same(Object.keys(listed[0]!), ['relative_path', 'storage', 'virtual_storage'], 'upstream\'s JSON keys, in its order');
    t.same(listed.filter((l) => l.relative_path.startsWith('stray/')).sort((a, b) => a.storage.localeCompare(b.storage)), [
      { relative_path: 'stray/one.git', storage: 'gitaly-1', virtual_storage: 'default' },
      { relative_path: 'stray/deep/two.git', storage: 'gitaly-3', virtual_storage: 'default' },
    ]);
    const trackedPaths = new Set([tracked.replica_path, 'ops/found.git']);
    t.same(listed.filter((l) => trackedPaths.has(l.relative_path)), [], 'tracked replicas (created, or tracked where found) are not listed');
    t.ok(listed.every((l) => !l.relative_path.startsWith('+gitaly')), 'the nodes\' own folders are not listed');

    const recent = await cli('list-untracked-repositories');
    ok(t, recent, 'with the default --older-than 6h');
    t.notMatch(recent.stdout, /stray\//, 'repositories newer than 6h are left out');
    const [delimited, upstreamSpelling] = await Promise.all([
      cli('list-untracked-repositories', '--older-than', '0s', '--delimiter', ';', '--virtual-storage', 'default'),
      runCli('praefect', ['-config', cluster.routers[1]!.configFile, 'list-untracked-repositories', '-older-than', '1ms']),
    ]);
    ok(t, delimited, '--delimiter');
    t.match(delimited.stdout, /^The following repositories were found on disk, but missing from the tracking database:\n(\{[^\n;]+\};)+$/);
    ok(t, upstreamSpelling, 'praefect -config FILE list-untracked-repositories -older-than');
    t.match(upstreamSpelling.stdout, '{"relative_path":"stray/one.git","storage":"gitaly-1","virtual_storage":"default"}\n');
    const unknown = await cli('list-untracked-repositories', '--virtual-storage', 'nope');
    t.equal(unknown.code, 1);
    t.match(unknown.stderr, /INVALID_ARGUMENT: virtual_storage: unknown virtual storage "nope"/);
    const bad = await cli('list-untracked-repositories', '--older-than', 'soon');
    t.equal(bad.code, 2);
    t.match(bad.stderr, /--older-than: /);
  });

  t.test('status with PostgreSQL stopped shows it down', async (t) => {
    await cluster.database.stop();
    try {
      const r = await cli('status', '--json');
      ok(t, r, 'status without PostgreSQL');
      const report = JSON.parse(r.stdout) as StatusReport;
      t.equal(report.replication_queue.database_up, false);
      t.not(report.replication_queue.database_error, '', 'with the error');
      t.equal(report.fresh, true, 'the rest of the status still comes from Raft');
      const text = await cli('status');
      t.match(text.stdout, /Replication queue: PostgreSQL is DOWN \(.+\)/);
      const check = await cli('check', '-q');
      t.equal(check.code, 1, 'check fails without the database');
      t.match(check.stdout, /that the database answers: Failed \(fatal\) error: /);
      const untracked = await cli('list-untracked-repositories', '--older-than', '0');
      t.equal(untracked.code, 1, 'list-untracked-repositories fails without the database');
      t.match(untracked.stderr, /UNAVAILABLE: the database is unavailable, so tracked repositories cannot be told from untracked ones/);
      t.equal(untracked.stdout, '', 'and lists nothing');
    } finally {
      await cluster.database.start();
    }
  });

  t.test('status through a router cut off from its peers (paused) shows its local state and says it is stale', async (t) => {
    const [alone, ...peers] = cluster.routers;
    for (const p of peers) p.process.pause();
    try {
      const r = await runCli('cluster', ['status', '--json', '--router', alone!.address, '--token', cluster.layout.token]);
      ok(t, r, 'status');
      const report = JSON.parse(r.stdout) as StatusReport;
      t.equal(report.fresh, false, 'not fresh');
      t.not(report.fresh_error, '', 'and why');
      t.ok(report.applied_index > 0 && report.storages.length === 3, 'what it knows is shown');
    } finally {
      for (const p of peers) p.process.resume();
    }
    await waitFor('the group to answer fresh again', async () => ((await admins[0]!.clusterState(true)).fresh ? true : undefined));
  });

  t.test('status through a router whose peers are gone says it is not fresh', async (t) => {
    const [alone, ...peers] = cluster.routers;
    await Promise.all(peers.map((p) => p.process.kill()));
    const only = ['--router', alone!.address, '--token', cluster.layout.token];
    const r = await runCli('cluster', ['status', '--json', ...only]);
    ok(t, r, 'status');
    const report = JSON.parse(r.stdout) as StatusReport;
    t.equal(report.fresh, false, 'not fresh without a quorum');
    t.not(report.fresh_error, '', 'and why');
    t.equal(report.source.address, alone!.address);
    t.ok(report.applied_index > 0, 'its local state is shown');
    const text = await runCli('cluster', ['status', ...only]);
    t.match(text.stdout, /NOT FRESH\. It could not catch up with the Raft group/);
    t.match(text.stdout, /Showing what router-1 \(.+\) knows: applied index \d+/);
    const all = await cli('status', '--json');
    ok(t, all, 'status over every router in cluster.json');
    const members = (JSON.parse(all.stdout) as StatusReport).raft.members;
    t.same(members.map((m) => m.reachable), [true, false, false], 'the killed routers are marked unreachable');
    t.ok(members.slice(1).every((m) => m.role === 'unreachable' && m.error !== ''));
    await waitFor('the killed routers to be gone', async () => (peers.every((p) => !p.process.running) ? true : undefined));
  });
});

// `bin/cluster up --exit` on a fresh folder and again on the same folder, and
// the command-line surface: --help for every command, unknown flags and
// missing targets refused with exit code 2 and a message.
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { runCli } from './fixtures/run-cli.js';

const COMMANDS = [
  'up',
  'status',
  'create-repository',
  'check',
  'dial-nodes',
  'list-storages',
  'dataloss',
  'accept-dataloss',
  'set-replication-factor',
  'metadata',
  'track-repository',
  'remove-repository',
  'list-untracked-repositories',
  'members',
  'members list',
  'members add-learner',
  'members promote',
  'members remove',
  'transfer-leader',
];

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

t.test('up --exit starts a whole cluster, prints every address and ready-to-paste commands, and stops it', async (t) => {
  const parent = await mkdtemp(path.join(tmpdir(), 'cluster-up-'));
  // mkdtemp makes it 0700; PostgreSQL's own account must pass through it.
  await chmod(parent, 0o755);
  t.teardown(() => rm(parent, { recursive: true, force: true }));
  const dir = path.join(parent, 'data');

  const first = await runCli('cluster', ['up', '--exit', '--dir', dir], { timeoutMs: 120_000 });
  t.equal(first.code, 0, `exit code 0 (stderr: ${first.stderr})`);
  const out = first.stdout;
  t.match(out, /Creating a cluster in .*: 3 routers, 3 storage nodes/);
  t.match(out, /… starting PostgreSQL/, 'progress while starting');
  t.match(out, /Cluster ready in [\d.]+ s/);
  const layout = JSON.parse(await readFile(path.join(dir, 'cluster.json'), 'utf8')) as { routers: { port: number; raftPort: number }[]; storages: { port: number }[]; gatewayPort: number; postgresPort: number };
  t.equal(layout.routers.length, 3);
  for (const r of layout.routers) t.match(out, new RegExp(`127\\.0\\.0\\.1:${r.port}\\s+raft 127\\.0\\.0\\.1:${r.raftPort}`), 'each router with its Raft address');
  for (const s of layout.storages) t.match(out, new RegExp(`storage gitaly-\\d\\s+127\\.0\\.0\\.1:${s.port}`), 'each storage node');
  t.match(out, new RegExp(`PostgreSQL\\s+127\\.0\\.0\\.1:${layout.postgresPort}`));
  t.match(out, new RegExp(`git HTTP gateway\\s+http://127\\.0\\.0\\.1:${layout.gatewayPort}`));
  t.match(out, new RegExp(`cluster status --dir ${dir}`), 'a ready-to-paste status command');
  t.match(out, new RegExp(`cluster create-repository --dir ${dir} --relative-path my/project\\.git`), 'a ready-to-paste repository creation');
  t.match(out, new RegExp(`git push http://127\\.0\\.0\\.1:${layout.gatewayPort}/my/project\\.git main`), 'a ready-to-paste push');
  t.match(out, new RegExp(`git clone http://127\\.0\\.0\\.1:${layout.gatewayPort}/my/project\\.git`), 'a ready-to-paste clone');
  t.match(out, /Stopped; every process has exited/);
  const open = await Promise.all([layout.gatewayPort, layout.postgresPort, ...layout.routers.map((r) => r.port), ...layout.storages.map((s) => s.port)].map(portOpen));
  t.same(open.filter(Boolean), [], 'no listener is left behind');

  // Started again without --exit, it runs until SIGINT (Ctrl-C), then stops every process.
  let interrupted = false;
  const again = await runCli('cluster', ['up', '--dir', dir], {
    timeoutMs: 120_000,
    onStdout: (soFar, child) => {
      if (interrupted || !soFar.includes('Press Ctrl-C to stop everything.')) return;
      interrupted = true;
      child.kill('SIGINT');
    },
  });
  t.equal(again.code, 0, `the second start exits 0 after SIGINT (stderr: ${again.stderr})`);
  t.ok(interrupted, 'it got as far as ready');
  t.match(again.stdout, /Resuming the cluster in .*: 3 routers, 3 storage nodes/, 'the same folder resumes');
  t.match(again.stdout, new RegExp(`git HTTP gateway\\s+http://127\\.0\\.0\\.1:${layout.gatewayPort}`), 'on the same ports');
  t.match(again.stdout, /Stopping the cluster…\nStopped; every process has exited/);
  const openAfterSigint = await Promise.all([layout.gatewayPort, layout.postgresPort, ...layout.routers.map((r) => r.port), ...layout.storages.map((s) => s.port)].map(portOpen));
  t.same(openAfterSigint.filter(Boolean), [], 'no listener is left behind after Ctrl-C');

  const mismatch = await runCli('cluster', ['up', '--exit', '--dir', dir, '--routers', '5']);
  t.equal(mismatch.code, 1, 'other counts on an existing folder fail');
  t.match(mismatch.stderr, /describes 3 routers and 3 storage nodes, not 5 and 3/);
});

t.test('every command has --help', async (t) => {
  const results = await Promise.all(COMMANDS.map((c) => runCli('cluster', [...c.split(' '), '--help'])));
  results.forEach((r, i) => {
    t.equal(r.code, 0, `${COMMANDS[i]} --help exits 0`);
    t.match(r.stdout, new RegExp(`cluster ${COMMANDS[i]}`), `${COMMANDS[i]} --help shows its usage`);
  });
  const praefect = await runCli('praefect', ['dataloss', '--help']);
  t.equal(praefect.code, 0);
  t.match(praefect.stdout, /--partially-unavailable/, 'bin/praefect has the operator commands too');
});

t.test('bad usage exits 2 and says what is wrong', async (t) => {
  const unknownFlag = await runCli('cluster', ['dataloss', '--bogus-flag']);
  t.equal(unknownFlag.code, 2);
  t.match(unknownFlag.stderr, /Unknown argument.*bogus-flag/);
  const unknownCommand = await runCli('cluster', ['frobnicate']);
  t.equal(unknownCommand.code, 2);
  t.match(unknownCommand.stderr, /Unknown argument: frobnicate/);
  const noTarget = await runCli('cluster', ['status', '--dir', path.join(tmpdir(), 'no-such-cluster-folder')]);
  t.equal(noTarget.code, 2);
  t.match(noTarget.stderr, /no router to talk to: pass --router HOST:PORT/);
  const badRouter = await runCli('cluster', ['status', '--router', 'not-an-address']);
  t.equal(badRouter.code, 2);
  t.match(badRouter.stderr, /--router: "not-an-address" is not HOST:PORT/);
  const missing = await runCli('cluster', ['accept-dataloss', '--router', '127.0.0.1:1', '--repository', 'x.git']);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /--authoritative-storage is required/);
  const noConfig = await runCli('praefect', ['dataloss']);
  t.equal(noConfig.code, 2);
  t.match(noConfig.stderr, /--config FILE is required/);
  const deadRouter = await runCli('cluster', ['list-storages', '--router', '127.0.0.1:1']);
  t.equal(deadRouter.code, 1, 'a router that does not answer is a failure, not bad usage');
  t.match(deadRouter.stderr, /no router answered \(127\.0\.0\.1:1: UNAVAILABLE/);
});

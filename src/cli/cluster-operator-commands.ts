// The operator commands with upstream Praefect's names and flags, talking to a
// router's admin API: registered on `bin/cluster` (routers from --dir or
// --router) and on `bin/praefect -config FILE` (the local router).
import type { Argv } from 'yargs';
import { AdminClient, type RaftStatusResponse } from '../admin/index.js';
import { parseDurationMs } from '../config/index.js';
import { formatDataloss, formatMetadata } from './cluster-dataloss-format.js';
import { table } from './cluster-format.js';
import { CommandFailedError, describeError, UsageError, withAnyRouter, type ClusterTarget } from './cluster-target.js';

export type Args = Record<string, unknown>;

export interface CommandContext {
  /** Where to send a command, from its parsed arguments; throws UsageError. */
  readonly target: (args: Args) => ClusterTarget;
  readonly setExit: (code: number) => void;
  /** 'cluster' or 'praefect', for messages. */
  readonly program: string;
}

type Body = (target: ClusterTarget, args: Args) => Promise<number>;

/** Runs a command body and turns its failure into a message on stderr and an exit code (2 usage, 1 failure). */
export function handler(ctx: CommandContext, command: string, body: Body): (args: Args) => Promise<void> {
  return async (args) => {
    try {
      ctx.setExit(await body(ctx.target(args), args));
    } catch (error) {
      process.stderr.write(`${ctx.program} ${command}: ${describeError(error)}\n`);
      ctx.setExit(error instanceof UsageError ? 2 : 1);
    }
  };
}

function str(args: Args, key: string): string {
  const value = args[key];
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

function virtualStorageOf(target: ClusterTarget, args: Args): string {
  return str(args, 'virtual-storage') || target.virtualStorage;
}

function required(args: Args, key: string): string {
  const value = str(args, key);
  if (value === '') throw new UsageError(`--${key} is required`);
  return value;
}

function positiveInt(args: Args, key: string): number {
  const value = Number(args[key]);
  if (!Number.isSafeInteger(value) || value < 1) throw new UsageError(`--${key} must be a positive integer, got ${JSON.stringify(args[key])}`);
  return value;
}

const vsOption = { 'virtual-storage': { type: 'string', describe: 'the virtual storage (default: the cluster\'s first)' } } as const;
const repositoryOption = { repository: { type: 'string', alias: 'relative-path', describe: 'the repository\'s relative path' } } as const;

export function registerOperatorCommands(y: Argv, ctx: CommandContext): Argv {
  return y
    .command('check', 'run startup checks: routers, Raft quorum, database, storage health, repository availability', (b) => b.option('q', { alias: 'quiet', type: 'boolean', describe: 'print only failures and the verdict' }), handler(ctx, 'check', check))
    .command('dial-nodes', 'health-check every configured storage node from the router now', (b) => b.option('timeout', { type: 'string', default: '10s', describe: 'how long to wait for each node (e.g. 5s, 500ms)' }), handler(ctx, 'dial-nodes', dialNodes))
    .command('list-storages', 'list the configured storage nodes and their health', (b) => b.options(vsOption), handler(ctx, 'list-storages', listStorages))
    .command(
      'dataloss',
      'list repositories that are read-only or unavailable, or whose primary is outdated',
      (b) => b.options(vsOption).option('partially-unavailable', { type: 'boolean', default: false, describe: 'also list repositories with an outdated or unhealthy assigned replica' }),
      handler(ctx, 'dataloss', dataloss),
    )
    .command(
      'accept-dataloss',
      "accept data loss: make the authoritative storage's copy the latest, and replicate it to the others",
      (b) => b.options({ ...vsOption, ...repositoryOption }).option('authoritative-storage', { type: 'string', describe: 'the storage whose copy wins' }),
      handler(ctx, 'accept-dataloss', acceptDataloss),
    )
    .command(
      'set-replication-factor',
      "set how many storages hold a repository (assignments are chosen in Raft; the primary stays assigned)",
      (b) => b.options({ ...vsOption, ...repositoryOption }).option('replication-factor', { type: 'number', describe: 'the number of assigned storages' }),
      handler(ctx, 'set-replication-factor', setReplicationFactor),
    )
    .command(
      'metadata',
      "show a repository's replicas, generations, health and primary",
      (b) =>
        b
          .option('repository-id', { type: 'number', describe: 'the repository id' })
          .options(vsOption)
          .option('relative-path', { type: 'string', alias: 'repository', describe: 'the relative path (with --virtual-storage)' }),
      handler(ctx, 'metadata', metadata),
    )
    .command(
      'track-repository',
      'add a repository that exists on a storage node (at its relative path) to the cluster',
      (b) =>
        b
          .options({ ...vsOption, ...repositoryOption })
          .option('authoritative-storage', { type: 'string', describe: 'the storage holding the repository; it becomes the primary' })
          .option('replicate-immediately', { type: 'boolean', default: false, describe: 'queue replication to the other storages now' }),
      handler(ctx, 'track-repository', trackRepository),
    )
    .command(
      'remove-repository',
      'remove a repository from the cluster and its replicas from the storage nodes (a dry run unless --apply)',
      (b) =>
        b
          .options({ ...vsOption, ...repositoryOption })
          .option('apply', { type: 'boolean', default: false, describe: 'really remove it' })
          .option('db-only', { type: 'boolean', default: false, describe: 'forget it in the cluster and the database, but leave the replicas on disk' }),
      handler(ctx, 'remove-repository', removeRepository),
    )
    .command(
      'list-untracked-repositories',
      'list repositories on the storage nodes that the database does not track (as JSON, one per delimiter)',
      (b) =>
        b
          .option('older-than', { type: 'string', default: '6h', describe: 'only repositories unchanged for at least this long (e.g. 6h, 1s; 0: all); newer ones may be replicas being created' })
          .option('delimiter', { type: 'string', default: '\n', describe: 'written after each repository' })
          .option('virtual-storage', { type: 'string', describe: 'only this virtual storage (default: every one)' }),
      handler(ctx, 'list-untracked-repositories', listUntrackedRepositories),
    )
    .command('members', 'the routers\' Raft group: list, add-learner, promote, remove', (b) => registerMembers(b, ctx))
    .command('transfer-leader', 'move Raft leadership to another voter and wait until it has moved', (b) => b.option('to', { type: 'number', describe: 'the Raft node id of the new leader' }), handler(ctx, 'transfer-leader', transferLeader));
}

// ---- health and storages ------------------------------------------------------------

interface CheckResult {
  readonly name: string;
  readonly severity: 'fatal' | 'warning';
  readonly error: string;
}

async function check(target: ClusterTarget, args: Args): Promise<number> {
  const quiet = args['q'] === true;
  const results: CheckResult[] = [];
  const record = (name: string, severity: CheckResult['severity'], error: string): void => {
    results.push({ name, severity, error });
    if (!quiet) process.stdout.write(`Checking ${name}... ${error === '' ? 'Passed' : `Failed (${severity}) error: ${error}`}\n`);
    else if (error !== '') process.stdout.write(`${name}: Failed (${severity}) error: ${error}\n`);
  };
  const raft = await withAnyRouter(target, (c) => c.raftStatus()).then((s) => ({ s, error: '' }), (e: unknown) => ({ s: undefined, error: describeError(e) }));
  record('that a router answers the admin API', 'fatal', raft.error);
  if (raft.s !== undefined) record('that the Raft group has a leader', 'fatal', raft.s.leader === 0 ? `router ${raft.s.router} knows no leader (term ${raft.s.term})` : '');
  const state = await withAnyRouter(target, (c) => c.clusterState(true)).catch(() => undefined);
  if (state !== undefined) {
    record('that the cluster state is fresh (a Raft quorum answers)', 'fatal', state.fresh ? '' : state.fresh_error);
    const unhealthy = state.storages.filter((s) => !s.healthy).map((s) => `${s.virtual_storage}/${s.storage}`);
    record('that every storage node is healthy by quorum', 'warning', unhealthy.length === 0 ? '' : `unhealthy: ${unhealthy.join(', ')}`);
    const unavailable = state.availability.reduce((sum, a) => sum + a.unavailable, 0);
    record('that no repository is unavailable', 'warning', unavailable === 0 ? '' : `${unavailable} unavailable; see \`dataloss\``);
  }
  const queue = await withAnyRouter(target, (c) => c.queueStatus()).catch((e: unknown) => ({ database_up: false, database_error: describeError(e) }));
  record('that the database answers', 'fatal', queue.database_up ? '' : queue.database_error);
  const fatal = results.filter((r) => r.error !== '' && r.severity === 'fatal').length;
  process.stdout.write(fatal === 0 ? 'All checks passed.\n' : `${fatal} fatal check${fatal === 1 ? '' : 's'} failed.\n`);
  return fatal === 0 ? 0 : 1;
}

async function dialNodes(target: ClusterTarget, args: Args): Promise<number> {
  const timeout = parseDurationMs(str(args, 'timeout'));
  if (!timeout.ok) throw new UsageError(`--timeout: ${timeout.reason}`);
  const answer = await withAnyRouter(target, (c) => c.dialNodes(timeout.ms), { timeoutMs: timeout.ms + 15_000 });
  for (const n of answer.nodes) {
    const name = `[${n.virtual_storage}/${n.storage}]`;
    process.stdout.write(`${name}: dialing ${n.address} from ${answer.router}\n`);
    process.stdout.write(n.ok ? `${name}: SUCCESS: healthy, answered in ${n.latency_ms.toFixed(1)} ms\n` : `${name}: ERROR: ${n.error}\n`);
  }
  const failed = answer.nodes.filter((n) => !n.ok).length;
  if (failed > 0) process.stderr.write(`${failed} of ${answer.nodes.length} storage nodes failed the health check\n`);
  return failed === 0 ? 0 : 1;
}

async function listStorages(target: ClusterTarget, args: Args): Promise<number> {
  const answer = await withAnyRouter(target, (c) => c.listStorages(str(args, 'virtual-storage')));
  const rows = answer.storages.map((s) => [s.virtual_storage, s.storage, s.address, s.healthy ? 'healthy' : 'unhealthy', s.locally_healthy ? 'reachable' : `unreachable (${s.last_probe_error})`]);
  process.stdout.write(`${table(['VIRTUAL STORAGE', 'NODE', 'ADDRESS', 'QUORUM', 'THIS ROUTER'], rows, '')}\n`);
  return 0;
}

// ---- repositories -----------------------------------------------------------------------

/** A walk of every storage node's disk may be long; it is still bounded. */
const UNTRACKED_WALK_TIMEOUT_MS = 60 * 60 * 1000;
const UNTRACKED_HEADER = 'The following repositories were found on disk, but missing from the tracking database:\n';

/** Upstream's output: a header before the first one, then each repository as JSON followed by the delimiter, as they are found. */
async function listUntrackedRepositories(target: ClusterTarget, args: Args): Promise<number> {
  const olderThan = parseDurationMs(str(args, 'older-than'));
  if (!olderThan.ok) throw new UsageError(`--older-than: ${olderThan.reason}`);
  const delimiter = typeof args['delimiter'] === 'string' ? args['delimiter'] : '\n';
  const request = { virtual_storage: str(args, 'virtual-storage'), older_than_ms: olderThan.ms };
  let printed = 0;
  await withAnyRouter(target, async (client) => {
    try {
      for await (const batch of client.listUntrackedRepositories(request, UNTRACKED_WALK_TIMEOUT_MS)) {
        const lines = batch.repositories.map((r) => `${JSON.stringify({ relative_path: r.relative_path, storage: r.storage, virtual_storage: r.virtual_storage })}${delimiter}`);
        process.stdout.write(`${printed === 0 && lines.length > 0 ? UNTRACKED_HEADER : ''}${lines.join('')}`);
        printed += lines.length;
      }
    } catch (error) {
      // Part of the list is out: asking another router would print it twice.
      if (printed > 0) throw new CommandFailedError(`the listing stopped after ${printed} repositories: ${describeError(error)}`);
      throw error;
    }
  });
  return 0;
}

async function dataloss(target: ClusterTarget, args: Args): Promise<number> {
  const partially = args['partially-unavailable'] === true;
  const answer = await withAnyRouter(target, (c) => c.dataloss({ virtual_storage: str(args, 'virtual-storage'), partially_unavailable: partially, fresh: true }));
  process.stdout.write(formatDataloss(answer, partially));
  return 0;
}

async function acceptDataloss(target: ClusterTarget, args: Args): Promise<number> {
  const request = { virtual_storage: virtualStorageOf(target, args), relative_path: required(args, 'repository'), authoritative_storage: required(args, 'authoritative-storage') };
  const answer = await withAnyRouter(target, (c) => c.acceptDataloss(request), { change: true });
  process.stdout.write(`accepted data loss: ${request.authoritative_storage} is authoritative for ${request.virtual_storage}/${request.relative_path} (repository ${answer.repository_id}) at generation ${answer.generation}\n`);
  return 0;
}

async function setReplicationFactor(target: ClusterTarget, args: Args): Promise<number> {
  const request = { virtual_storage: virtualStorageOf(target, args), relative_path: required(args, 'repository'), replication_factor: positiveInt(args, 'replication-factor') };
  const answer = await withAnyRouter(target, (c) => c.setReplicationFactor(request), { change: true });
  process.stdout.write(`current assignments: ${answer.assigned.join(', ')}\n`);
  return 0;
}

async function metadata(target: ClusterTarget, args: Args): Promise<number> {
  const id = args['repository-id'] === undefined ? 0 : positiveInt(args, 'repository-id');
  const relativePath = str(args, 'relative-path');
  if (id === 0 && relativePath === '') throw new UsageError('give --repository-id, or --virtual-storage and --relative-path');
  const request = id !== 0 ? { repository_id: id, fresh: true } : { virtual_storage: virtualStorageOf(target, args), relative_path: relativePath, fresh: true };
  process.stdout.write(formatMetadata(await withAnyRouter(target, (c) => c.repositoryMetadata(request))));
  return 0;
}

async function trackRepository(target: ClusterTarget, args: Args): Promise<number> {
  const request = {
    virtual_storage: virtualStorageOf(target, args),
    relative_path: required(args, 'repository'),
    authoritative_storage: required(args, 'authoritative-storage'),
    replicate_immediately: args['replicate-immediately'] === true,
  };
  const answer = await withAnyRouter(target, (c) => c.trackRepository(request), { change: true });
  process.stdout.write(`tracked ${request.virtual_storage}/${request.relative_path} as repository ${answer.repository_id}; primary ${request.authoritative_storage}; assigned ${answer.assigned.join(', ')}\n`);
  return 0;
}

async function removeRepository(target: ClusterTarget, args: Args): Promise<number> {
  const apply = args['apply'] === true;
  const request = { virtual_storage: virtualStorageOf(target, args), relative_path: required(args, 'repository'), apply, db_only: args['db-only'] === true };
  const answer = await withAnyRouter(target, (c) => c.removeRepository(request), { change: request.apply });
  const name = `${request.virtual_storage}/${request.relative_path}`;
  const where = [answer.in_cluster_state ? 'the cluster state' : '', answer.in_database ? 'the database' : ''].filter((w) => w !== '').join(' and ') || 'nowhere';
  const replicas = answer.replicas.length === 0 ? 'no replicas' : `replicas on ${answer.replicas.join(', ')}`;
  if (!apply) {
    process.stdout.write(`dry run: would remove ${name} (repository ${answer.repository_id}, replica path ${answer.replica_path}) from ${where}, and ${request.db_only ? 'leave' : 'delete'} its ${replicas}\n`);
    process.stdout.write('re-run with --apply to remove it\n');
  } else {
    process.stdout.write(`removed ${name} (repository ${answer.repository_id}) from the cluster; ${request.db_only ? 'left' : 'queued deletion of'} its ${replicas}\n`);
  }
  if (answer.database_error !== '') process.stderr.write(`warning: the database step failed: ${answer.database_error}\n`);
  return 0;
}

// ---- Raft membership and leadership -------------------------------------------------

function registerMembers(y: Argv, ctx: CommandContext): Argv {
  const id = { id: { type: 'number', describe: 'the Raft node id' } } as const;
  return y
    .command('list', 'list the Raft members, their roles and addresses', (b) => b.option('json', { type: 'boolean', default: false }), handler(ctx, 'members list', membersList))
    .command(
      'add-learner',
      'add a router as a non-voting learner (start it first; then promote it)',
      (b) => b.options(id).option('raft-address', { type: 'string', describe: "the new router's Raft listener HOST:PORT" }),
      handler(ctx, 'members add-learner', addLearner),
    )
    .command('promote', 'promote a caught-up learner to a voter', (b) => b.options(id), handler(ctx, 'members promote', (t, a) => changeMembership(t, 'promote', positiveInt(a, 'id'))))
    .command('remove', 'remove a member (voter or learner) from the group', (b) => b.options(id), handler(ctx, 'members remove', (t, a) => changeMembership(t, 'remove', positiveInt(a, 'id'))))
    .demandCommand(1, 'name a members command: list, add-learner, promote, remove');
}

export interface MembersReport {
  readonly leader: number;
  readonly term: number;
  readonly voters: readonly number[];
  readonly learners: readonly number[];
  readonly members: readonly { id: number; suffrage: 'voter' | 'learner'; router: string; address: string; role: string; reachable: boolean }[];
  readonly unreachable: readonly { address: string; error: string }[];
}

export async function gatherMembers(target: ClusterTarget): Promise<MembersReport> {
  const answers = await Promise.all(
    target.routers.map(async (address) => {
      const client = new AdminClient(address, { token: target.token, timeoutMs: 5_000 });
      try {
        return { address, status: await client.raftStatus() };
      } catch (error) {
        return { address, error: describeError(error) };
      } finally {
        client.close();
      }
    }),
  );
  const statuses = answers.flatMap((a) => ('status' in a && a.status !== undefined ? [{ address: a.address, status: a.status }] : []));
  if (statuses.length === 0) throw new CommandFailedError(`no router answered (${answers.map((a) => `${a.address}: ${'error' in a ? a.error : ''}`).join('; ')})`);
  const term = Math.max(...statuses.map((s) => s.status.term));
  const source: RaftStatusResponse = (statuses.find((s) => s.status.role === 'leader' && s.status.term === term) ?? statuses[0]!).status;
  const byId = new Map(statuses.map((s) => [s.status.id, s]));
  const member = (id: number, suffrage: 'voter' | 'learner') => {
    const known = byId.get(id);
    return { id, suffrage, router: known?.status.router ?? '', address: known?.address ?? '', role: known?.status.role ?? 'unknown', reachable: known !== undefined };
  };
  return {
    leader: source.role === 'leader' ? source.id : source.leader,
    term,
    voters: source.voters,
    learners: source.learners,
    members: [...source.voters.map((v) => member(v, 'voter')), ...source.learners.map((l) => member(l, 'learner'))],
    unreachable: answers.flatMap((a) => ('error' in a && a.error !== undefined ? [{ address: a.address, error: a.error }] : [])),
  };
}

async function membersList(target: ClusterTarget, args: Args): Promise<number> {
  const report = await gatherMembers(target);
  if (args['json'] === true) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(`leader ${report.leader || 'unknown'}, term ${report.term}\n`);
  const rows = report.members.map((m) => [String(m.id), m.suffrage, m.router || '?', m.address || '?', m.reachable ? m.role : 'not asked or unreachable']);
  process.stdout.write(`${table(['ID', 'MEMBER', 'ROUTER', 'ADDRESS', 'ROLE'], rows, '')}\n`);
  for (const u of report.unreachable) process.stdout.write(`unreachable: ${u.address}: ${u.error}\n`);
  return 0;
}

async function addLearner(target: ClusterTarget, args: Args): Promise<number> {
  const nodeId = positiveInt(args, 'id');
  const raftAddress = required(args, 'raft-address');
  if (!/^[^:\s]+:\d+$/.test(raftAddress)) throw new UsageError(`--raft-address: "${raftAddress}" is not HOST:PORT`);
  // Every router must know where the learner listens: the leader sends it the log, and any router may lead later.
  for (const address of target.routers) {
    const client = new AdminClient(address, { token: target.token, timeoutMs: 5_000 });
    await client.addRaftPeer(nodeId, raftAddress).catch((error: unknown) => process.stderr.write(`warning: router ${address} did not record the address: ${describeError(error)}\n`));
    client.close();
  }
  return changeMembership(target, 'add-learner', nodeId, raftAddress);
}

async function changeMembership(target: ClusterTarget, change: 'add-learner' | 'promote' | 'remove', nodeId: number, raftAddress = ''): Promise<number> {
  const answer = await withAnyRouter(target, (c) => c.changeMembership({ change, node_id: nodeId, raft_address: raftAddress }), { timeoutMs: 20_000, change: true });
  process.stdout.write(`${change} ${nodeId}: done; voters ${answer.voters.join(', ') || '-'}; learners ${answer.learners.join(', ') || '-'}\n`);
  return 0;
}

async function transferLeader(target: ClusterTarget, args: Args): Promise<number> {
  const to = positiveInt(args, 'to');
  const answer = await withAnyRouter(target, (c) => c.transferLeader(to), { timeoutMs: 20_000, change: true });
  process.stdout.write(`leader is now ${answer.leader} (term ${answer.term})\n`);
  return 0;
}

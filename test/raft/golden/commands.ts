// The script commands of the golden-file tests. Each takes its parsed
// arguments and returns output lines; test/raft/testdata/README.md lists them.

import type { ConfChangeType, NodeId, StateRole } from '../../../src/raft/core/index.js';
import { FatalError, GoldenEnv, type MessageFilter, type NodeSettings, type Output } from './env.js';

/** An `expect-*` command that did not hold: fails the test even when rewriting. */
export class AssertionFailure extends Error {}

export interface Arg {
  /** For key=value arguments; undefined for positional ones. */
  readonly key: string | undefined;
  /** The value; for "(1,2,3)" the list ['1','2','3']. */
  readonly values: readonly string[];
  readonly raw: string;
}

export interface Command {
  readonly name: string;
  readonly args: readonly Arg[];
}

export function parseCommand(line: string): Command {
  const [name, ...tokens] = line.trim().split(/\s+/);
  if (!name) throw new FatalError('empty command');
  const args = tokens.map((raw): Arg => {
    const eq = raw.indexOf('=');
    // "<=3" is a value, not a key.
    const key = eq > 0 && /^[a-z][a-z0-9-]*$/.test(raw.slice(0, eq)) ? raw.slice(0, eq) : undefined;
    const value = key === undefined ? raw : raw.slice(eq + 1);
    const list = /^\(.*\)$/.test(value) ? value.slice(1, -1).split(',').filter((v) => v !== '') : [value];
    return { key, values: list, raw };
  });
  return { name, args };
}

class Args {
  private readonly used = new Set<Arg>();
  private readonly flags = new Set<Arg>();

  constructor(
    private readonly command: Command,
    private readonly env: GoldenEnv,
  ) {}

  positional(): Arg[] {
    return this.command.args.filter((a) => a.key === undefined);
  }

  /** Positional argument `i` as a string. */
  str(i: number, what: string): string {
    const arg = this.positional()[i];
    if (!arg) throw new FatalError(`${this.command.name}: missing ${what}`);
    this.used.add(arg);
    return arg.raw;
  }

  int(i: number, what: string): number {
    return toInt(this.str(i, what), what);
  }

  /** All positional arguments from `i` on as node ids ("all" and "(1,2)" allowed); default: all live nodes. */
  ids(i: number, fallback: 'all' | 'none' = 'all'): NodeId[] {
    const args = this.positional()
      .slice(i)
      .filter((a) => !this.flags.has(a));
    if (args.length === 0) return fallback === 'all' ? this.env.liveIds() : [];
    const ids: NodeId[] = [];
    for (const arg of args) {
      this.used.add(arg);
      if (arg.raw === 'all') ids.push(...this.env.liveIds());
      else for (const v of arg.values) ids.push(toInt(v, 'node id'));
    }
    return [...new Set(ids)];
  }

  kv(key: string): Arg | undefined {
    const arg = this.command.args.find((a) => a.key === key);
    if (arg) this.used.add(arg);
    return arg;
  }

  kvInt(key: string): number | undefined {
    const arg = this.kv(key);
    return arg ? toInt(arg.values[0] ?? '', key) : undefined;
  }

  kvBool(key: string): boolean | undefined {
    const arg = this.kv(key);
    if (!arg) return undefined;
    if (arg.values[0] === 'true') return true;
    if (arg.values[0] === 'false') return false;
    throw new FatalError(`${key} must be true or false`);
  }

  kvIds(key: string): NodeId[] | undefined {
    const arg = this.kv(key);
    return arg ? arg.values.map((v) => toInt(v, key)) : undefined;
  }

  flag(name: string): boolean {
    const arg = this.command.args.find((a) => a.key === undefined && a.raw === name);
    if (arg) {
      this.used.add(arg);
      this.flags.add(arg);
    }
    return arg !== undefined;
  }

  /** Refuses arguments no handler looked at, so a typo cannot silently change a scenario. */
  done(): void {
    const unused = this.command.args.filter((a) => !this.used.has(a));
    if (unused.length > 0) throw new FatalError(`${this.command.name}: unknown argument(s) ${unused.map((a) => a.raw).join(' ')}`);
  }
}

function toInt(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw new FatalError(`${what} must be a non-negative integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

const SETTINGS: Record<string, keyof NodeSettings> = {
  'election-ticks': 'electionTicks',
  'heartbeat-ticks': 'heartbeatTicks',
  'max-msg-bytes': 'maxMsgBytes',
  'max-inflight-msgs': 'maxInflightMsgs',
  'max-inflight-bytes': 'maxInflightBytes',
  'max-uncommitted-bytes': 'maxUncommittedBytes',
  'max-committed-bytes-per-ready': 'maxCommittedBytesPerReady',
  'max-snapshot-bytes': 'maxSnapshotBytes',
  'snapshot-chunk-bytes': 'snapshotChunkBytes',
  'max-pending-reads': 'maxPendingReads',
};

const ROLES: readonly StateRole[] = ['follower', 'preCandidate', 'candidate', 'leader'];
const CONF_TYPES: readonly ConfChangeType[] = ['addVoter', 'addLearner', 'promote', 'remove'];

type Handler = (a: Args, env: GoldenEnv) => Promise<Output> | Output;

function expectEqual(what: string, actual: number | string, expected: number | string): Output {
  if (actual !== expected) throw new AssertionFailure(`${what}: expected ${expected}, got ${actual}`);
  return ['ok'];
}

function settingsFrom(a: Args): NodeSettings {
  const settings: Record<string, number | boolean> = {};
  for (const [key, field] of Object.entries(SETTINGS)) {
    const value = a.kvInt(key);
    if (value !== undefined) settings[field] = value;
  }
  const preVote = a.kvBool('prevote');
  if (preVote !== undefined) settings.preVote = preVote;
  const checkQuorum = a.kvBool('checkquorum');
  if (checkQuorum !== undefined) settings.checkQuorum = checkQuorum;
  return settings as NodeSettings;
}

/** "(1,2)" "(3)" or "(1)" "->" "(2,3)" */
function partitionGroups(a: Args): { groups: NodeId[][]; oneWay: boolean } {
  const groups: NodeId[][] = [];
  let oneWay = false;
  for (const arg of a.positional()) {
    a.str(a.positional().indexOf(arg), 'group');
    if (arg.raw === '->') {
      oneWay = true;
      continue;
    }
    groups.push(arg.values.map((v) => toInt(v, 'node id')));
  }
  if (groups.length < 2) throw new FatalError('partition needs at least two groups');
  if (oneWay && groups.length !== 2) throw new FatalError('a one-way partition has exactly two groups: (a) -> (b)');
  return { groups, oneWay };
}

const HANDLERS: Record<string, Handler> = {
  'add-nodes': async (a, env) => {
    const count = a.int(0, 'count');
    const voters = a.kvIds('voters');
    return env.addNodes(count, voters, settingsFrom(a));
  },

  campaign: (a, env) => {
    const id = a.int(0, 'node');
    return env.input(() => env.live(id).campaign());
  },

  propose: (a, env) => {
    const id = a.int(0, 'node');
    const values = a.positional().slice(1).map((_, i) => a.str(i + 1, 'data'));
    if (values.length === 0) throw new FatalError('propose: missing data');
    return env.propose(id, values);
  },

  'propose-conf-change': (a, env) => {
    const id = a.int(0, 'node');
    const type = a.str(1, 'change type') as ConfChangeType;
    if (!CONF_TYPES.includes(type)) throw new FatalError(`unknown change type ${type}`);
    const nodeId = a.int(2, 'target node');
    return env.input(() => env.live(id).proposeConfChange({ type, nodeId }));
  },

  'read-index': (a, env) => {
    const id = a.int(0, 'node');
    const ctx = new TextEncoder().encode(a.str(1, 'context'));
    return env.input(() => env.live(id).readIndex(ctx));
  },

  'transfer-leadership': (a, env) => {
    const id = a.int(0, 'node');
    const to = a.int(1, 'transferee');
    return env.input(() => env.live(id).transferLeadership(to));
  },

  'report-unreachable': (a, env) => {
    const id = a.int(0, 'node');
    const peer = a.int(1, 'peer');
    return env.input(() => env.live(id).reportUnreachable(peer));
  },

  'report-snapshot-failed': (a, env) => {
    const id = a.int(0, 'node');
    const peer = a.int(1, 'peer');
    return env.input(() => env.live(id).reportSnapshotFailed(peer));
  },

  tick: (a, env) => {
    const n = a.kvInt('n') ?? 1;
    return env.tick(a.ids(0), () => n);
  },

  'tick-election': (a, env) => {
    const n = a.kvInt('n') ?? 1;
    return env.tick(a.ids(0), (id) => n * env.live(id).raft.config.electionTicks);
  },

  'tick-heartbeat': (a, env) => {
    const n = a.kvInt('n') ?? 1;
    return env.tick(a.ids(0), (id) => n * env.live(id).raft.config.heartbeatTicks);
  },

  'process-ready': (a, env) => env.processReady(a.ids(0)),

  'deliver-msgs': (a, env) => {
    const drop = a.flag('drop');
    const to = a.ids(0, 'none');
    const typeArg = a.kv('type');
    const filter: MessageFilter = {
      ...(to.length > 0 ? { to } : {}),
      ...(a.kvIds('from') ? { from: a.kvIds('from')! } : {}),
      ...(typeArg ? { types: typeArg.values } : {}),
      ...(a.kvInt('limit') !== undefined ? { limit: a.kvInt('limit')! } : {}),
      ...(a.kv('ctx') ? { context: a.kv('ctx')!.raw.slice('ctx='.length) } : {}),
    };
    return env.deliverMsgs(filter, drop);
  },

  'show-msgs': (_a, env) => env.wireLines(),

  stabilize: (a, env) => env.stabilize(a.ids(0)),

  partition: (a, env) => {
    const { groups, oneWay } = partitionGroups(a);
    if (oneWay) env.cut(groups[0]!, groups[1]!);
    else for (const g of groups) for (const h of groups) if (g !== h) env.cut(g, h);
    return [`cut: ${env.describeCuts()}`];
  },

  heal: (_a, env) => {
    env.heal();
    return ['ok'];
  },

  crash: (a, env) => env.crash(a.int(0, 'node')),

  restart: (a, env) => env.restart(a.int(0, 'node')),

  compact: (a, env) => env.compact(a.int(0, 'node'), a.int(1, 'index')),

  status: (a, env) => a.ids(0).flatMap((id) => env.status(id)),

  log: (a, env) => a.ids(0).flatMap((id) => env.log(id)),

  sm: (a, env) => a.ids(0).flatMap((id) => env.stateMachine(id)),

  stats: (a, env) => {
    const out = env.statsLines();
    if (a.flag('reset')) env.resetStats();
    return out;
  },

  'expect-role': (a, env) => {
    const id = a.int(0, 'node');
    const role = a.str(1, 'role');
    if (!ROLES.includes(role as StateRole)) throw new FatalError(`unknown role ${role}`);
    return expectEqual(`role of ${id}`, env.live(id).status().role, role);
  },

  'expect-term': (a, env) => {
    const id = a.int(0, 'node');
    return expectEqual(`term of ${id}`, env.live(id).status().term, a.int(1, 'term'));
  },

  'expect-lead': (a, env) => {
    const id = a.int(0, 'node');
    return expectEqual(`leader known to ${id}`, env.live(id).status().lead, a.int(1, 'leader'));
  },

  'expect-commit': (a, env) => {
    const id = a.int(0, 'node');
    return expectEqual(`commit index of ${id}`, env.live(id).status().commit, a.int(1, 'index'));
  },

  'expect-applied': (a, env) => {
    const id = a.int(0, 'node');
    return expectEqual(`applied index of ${id}`, env.node(id).applied, a.int(1, 'index'));
  },

  'expect-last': (a, env) => {
    const id = a.int(0, 'node');
    return expectEqual(`last index of ${id}`, env.live(id).status().lastIndex, a.int(1, 'index'));
  },

  'expect-sm': (a, env) => {
    const id = a.int(0, 'node');
    const other = a.int(1, 'other node');
    const mine = env.node(id).values.join(' ');
    const theirs = env.node(other).values.join(' ');
    if (mine !== theirs) throw new AssertionFailure(`state machines of ${id} and ${other} differ: [${mine}] vs [${theirs}]`);
    return ['ok'];
  },

  /** expect-stat <key> <n> (exactly) or <key> <=n (at most). */
  'expect-stat': (a, env) => {
    const key = a.str(0, 'stat');
    const bound = a.str(1, 'count');
    const actual = env.stat(key);
    if (bound.startsWith('<=')) {
      const max = toInt(bound.slice(2), 'count');
      if (actual > max) throw new AssertionFailure(`${key}: expected at most ${max}, got ${actual}`);
      return ['ok'];
    }
    return expectEqual(key, actual, toInt(bound, 'count'));
  },
};

export async function runCommand(env: GoldenEnv, line: string): Promise<Output> {
  const command = parseCommand(line);
  const handler = HANDLERS[command.name];
  if (!handler) throw new FatalError(`unknown command ${command.name}`);
  const args = new Args(command, env);
  const out = await handler(args, env);
  args.done();
  return out;
}

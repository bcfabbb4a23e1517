// The command line of `npm run jepsen` and `npm run jepsen:suite`, parsed
// into a TestConfig (or a recheck / suite request) with precise errors.
import { netnsMissing } from '../net/index.js';
import { findLibfaketime } from './nemesis/clock-faker.js';
import { diskFaultMissing } from './nemesis/disk-filler.js';
import { HARNESS_NEMESES, harnessSchedule, usesClock, type HarnessNemesis } from './nemesis/harness-nemesis.js';
import { scenarioByName, scenarioSchedule } from './scenarios.js';
import { splitTimeLimit, type NetBackend, type TestConfig } from './test-config.js';
import { WORKLOAD_NAMES, type WorkloadName } from './workloads/index.js';

export class UsageError extends Error {
  readonly code = 'JEPSEN_USAGE';
}

export type Command =
  | { readonly kind: 'run'; readonly config: TestConfig; readonly storeRoot?: string; readonly keepCluster: boolean }
  | { readonly kind: 'recheck'; readonly dir: string }
  | { readonly kind: 'suite'; readonly only: readonly string[]; readonly base: BaseOptions; readonly storeRoot?: string }
  | { readonly kind: 'help' };

export interface BaseOptions {
  readonly seed: number;
  readonly routers: number;
  readonly storages: number;
  readonly timeLimitMs: number;
  readonly net: NetBackend;
  readonly concurrency: number;
  readonly nemesisIntervalMs: number;
  readonly monitorIntervalMs: number;
}

export const USAGE = `usage:
  npm run jepsen -- --workload register|append|cluster-state|set-full --nemesis NAME --time-limit SECONDS --seed N --routers 3|5
  npm run jepsen -- --scenario NAME [--time-limit SECONDS --seed N]
  npm run jepsen -- --recheck DIR
  npm run jepsen:suite [-- --only NAME,NAME --time-limit SECONDS --seed N]
options: --storages N (3), --concurrency N (5), --nemesis-interval SECONDS (5), --monitor-interval MS (1000),
         --net proxy|netns, --store DIR (jepsen/store), --keep-cluster
nemeses: ${HARNESS_NEMESES.join(', ')}`;

const FLAGS = new Set(['keep-cluster', 'suite', 'help']);

export function parseArgs(argv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}"`);
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    if (FLAGS.has(name)) {
      out.set(name, 'true');
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    out.set(name, value);
  }
  return out;
}

export function parseCommand(argv: readonly string[], randomSeed: () => number = () => Math.floor(Math.random() * 2 ** 31)): Command {
  const args = parseArgs(argv);
  if (args.has('help')) return { kind: 'help' };
  const recheckDir = args.get('recheck');
  if (recheckDir !== undefined) return { kind: 'recheck', dir: recheckDir };
  if (args.has('suite') && !args.has('time-limit')) args.set('time-limit', '30');
  const base = baseOptions(args, randomSeed);
  const storeRoot = args.get('store');
  if (args.has('suite')) {
    const only = (args.get('only') ?? '').split(',').filter((s) => s !== '');
    return { kind: 'suite', only, base, ...(storeRoot === undefined ? {} : { storeRoot }) };
  }
  const scenario = args.get('scenario');
  const workload = choice(args.get('workload') ?? 'register', WORKLOAD_NAMES, '--workload');
  const nemesis = choice(args.get('nemesis') ?? 'partition-isolate-one', HARNESS_NEMESES, '--nemesis');
  const config = scenario === undefined ? buildConfig(base, workload, nemesis) : buildScenarioConfig(base, scenario);
  return { kind: 'run', config, keepCluster: args.has('keep-cluster'), ...(storeRoot === undefined ? {} : { storeRoot }) };
}

function baseOptions(args: Map<string, string>, randomSeed: () => number): BaseOptions {
  const routers = integer(args, 'routers', 3, 1, 9);
  return {
    seed: integer(args, 'seed', randomSeed(), 0, 2 ** 32 - 1),
    routers,
    storages: integer(args, 'storages', 3, 1, 9),
    timeLimitMs: integer(args, 'time-limit', 60, 10, 86_400) * 1000,
    net: choice(args.get('net') ?? 'proxy', ['proxy', 'netns'] as const, '--net'),
    concurrency: integer(args, 'concurrency', 5, 1, 256),
    nemesisIntervalMs: integer(args, 'nemesis-interval', 5, 1, 3600) * 1000,
    monitorIntervalMs: integer(args, 'monitor-interval', 1_000, 50, 60_000),
  };
}

export function buildConfig(base: BaseOptions, workload: WorkloadName, nemesis: HarnessNemesis, overrides: Partial<TestConfig> = {}): TestConfig {
  const missing = base.net === 'netns' ? netnsMissing() : [];
  if (missing.length > 0) throw new NotRunnable(`--net netns cannot run here: ${missing.join('; ')}`);
  const split = splitTimeLimit(base.timeLimitMs);
  const routers = Array.from({ length: base.routers }, (_, i) => `praefect-${i + 1}`);
  const storages = Array.from({ length: base.storages }, (_, i) => `gitaly-${i + 1}`);
  const schedule = harnessSchedule({ nemesis, nodes: { routers, storages, postgres: 'postgres' }, seed: base.seed, intervalMs: base.nemesisIntervalMs, timeLimitMs: split.faultMs });
  if (usesClock(nemesis, schedule) && findLibfaketime() === undefined) {
    throw new ClockSkipped(`nemesis ${nemesis} moves clocks and needs libfaketime, which is not installed (apt-get install -y libfaketime); skipped`);
  }
  return {
    name: `${workload} ${nemesis}`,
    workload,
    nemesis,
    seed: base.seed,
    routers: base.routers,
    storages: base.storages,
    net: base.net,
    timeLimitMs: base.timeLimitMs,
    ...split,
    recoveryTimeoutMs: Math.max(split.recoveryMs, 20_000),
    nemesisIntervalMs: base.nemesisIntervalMs,
    concurrency: base.concurrency,
    opDelayMs: 20,
    opTimeoutMs: 3_000,
    monitorIntervalMs: base.monitorIntervalMs,
    tickMs: 100,
    electionTicks: 10,
    liveKeys: 4,
    opsPerKey: 60,
    spareKeys: 4,
    raftPollIntervalMs: 250,
    schedule,
    ...overrides,
  };
}

export function buildScenarioConfig(base: BaseOptions, name: string): TestConfig {
  const scenario = scenarioByName(name);
  if (scenario.unsupported !== undefined) throw new UsageError(`scenario ${name} cannot run yet: ${scenario.unsupported}`);
  const noDisk = scenario.requiresRoot === true ? diskFaultMissing() : undefined;
  if (noDisk !== undefined) throw new NotRunnable(`scenario ${name} needs a size-limited storage filesystem (a tmpfs mount): ${noDisk}`);
  if (scenario.requiresNet !== undefined && base.net !== scenario.requiresNet) {
    throw new NotRunnable(`scenario ${name} needs --net ${scenario.requiresNet} (root): ${NET_REASONS[scenario.requiresNet]}`);
  }
  const raised = scenario.minTimeLimit !== undefined && base.timeLimitMs < scenario.minTimeLimit.ms ? { ...base, timeLimitMs: scenario.minTimeLimit.ms } : base;
  const config = buildConfig(raised, scenario.workload, 'none', { ...scenario.tuning, scenario: name, name: `scenario ${name}` });
  const schedule = scenarioSchedule(scenario, config.faultMs);
  if (base.net === 'netns' && schedule.some((e) => e.fault.kind === 'delay-links' && e.fault.to !== 'postgres')) {
    throw new NotRunnable(`scenario ${name} delays links between namespaces, which needs tc netem (missing from this kernel); run it with --net proxy`);
  }
  return { ...config, schedule };
}

const NET_REASONS: Record<'netns', string> = {
  netns: 'under the proxy backend a storage node reaches another one at the address the router passes on (the router->storage proxy), so there is no storage->storage link to cut',
};

/** A run this machine or these options cannot stage (no root for netns, a scenario that needs netns): reported and skipped, not failed. */
export class NotRunnable extends Error {
  readonly code = 'JEPSEN_NOT_RUNNABLE';
}

/** A run that cannot happen on this machine (no libfaketime): reported and skipped, not failed. */
export class ClockSkipped extends Error {
  readonly code = 'JEPSEN_SKIPPED';
}

function integer(args: Map<string, string>, name: string, fallback: number, min: number, max: number): number {
  const raw = args.get(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new UsageError(`--${name} must be an integer in [${min}, ${max}], got "${raw}"`);
  return value;
}

function choice<T extends string>(value: string, allowed: readonly T[], flag: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')}; got "${value}"`);
  return value as T;
}

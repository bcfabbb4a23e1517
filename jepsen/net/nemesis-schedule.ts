// A seeded, pure nemesis schedule: from a nemesis name, the nodes, an
// interval and a time limit, the timed start/stop events of a test run.
// The same seed always gives the same schedule, so a failing run replays.
import type { DirectedLink } from './directed-link.js';
import { InvalidFaultError } from './errors.js';
import { bridgeCuts, bridgeShape, halvesCuts, isolateCuts, majoritiesRingCuts, oneWayCuts } from './partition-shapes.js';
import { mulberry32, type Prng } from './prng.js';

export const NEMESIS_NAMES = [
  'partition-isolate-one',
  'partition-isolate-leader',
  'partition-halves',
  'partition-majorities-ring',
  'partition-bridge',
  'partition-one-way',
  'kill',
  'pause',
  'clock',
  'mixed',
] as const;
export type NemesisName = (typeof NEMESIS_NAMES)[number];

export type PartitionShape = 'isolate-one' | 'halves' | 'majorities-ring' | 'bridge' | 'one-way';

export type Fault =
  /** Cuts fixed when the schedule is made (the nodes were shuffled by the seed). */
  | { readonly kind: 'partition'; readonly shape: PartitionShape; readonly cuts: readonly DirectedLink[]; readonly description: string }
  /** Isolate whoever leads at run time, from the other nodes of `among`. */
  | { readonly kind: 'partition-leader'; readonly among: readonly string[] }
  /** SIGKILL at start, restart at stop. */
  | { readonly kind: 'kill'; readonly nodes: readonly string[] }
  /** SIGSTOP at start, SIGCONT at stop. */
  | { readonly kind: 'pause'; readonly nodes: readonly string[] }
  /** Wall clock moved by offsetMs at start, restored at stop. */
  | { readonly kind: 'clock'; readonly nodes: readonly string[]; readonly offsetMs: number };

export interface NemesisEvent {
  /** Milliseconds after the test's start. */
  readonly atMs: number;
  readonly op: 'start' | 'stop';
  /** A stop event carries the very fault its start did. */
  readonly fault: Fault;
}

export interface ScheduleOptions {
  readonly nemesis: NemesisName;
  readonly nodes: readonly string[];
  readonly seed: number;
  /** Mean time of quiet before each fault and of each fault. */
  readonly intervalMs: number;
  readonly timeLimitMs: number;
  /** Each interval is drawn from intervalMs * [1 - jitter, 1 + jitter]. Default 0.5. */
  readonly jitter?: number;
  /** Clock faults move a clock by up to this, either way. Default 10 000. */
  readonly maxClockOffsetMs?: number;
  /** Refuse schedules longer than this many events. Default 100 000. */
  readonly maxEvents?: number;
}

export function nemesisSchedule(options: ScheduleOptions): NemesisEvent[] {
  validate(options);
  const rng = mulberry32(options.seed);
  const jitter = options.jitter ?? 0.5;
  const interval = (): number => Math.max(1, Math.round(options.intervalMs * (1 - jitter + 2 * jitter * rng.next())));
  const events: NemesisEvent[] = [];
  const maxEvents = options.maxEvents ?? 100_000;
  let atMs = interval();
  while (atMs < options.timeLimitMs) {
    if (events.length + 2 > maxEvents) {
      throw new InvalidFaultError(`schedule needs more than ${maxEvents} events; raise intervalMs or maxEvents`);
    }
    const fault = drawFault(options.nemesis, options.nodes, rng, options.maxClockOffsetMs ?? 10_000);
    events.push({ atMs, op: 'start', fault });
    const stopMs = Math.min(atMs + interval(), options.timeLimitMs);
    events.push({ atMs: stopMs, op: 'stop', fault });
    atMs = stopMs + interval();
  }
  return events;
}

/** The nemeses a node count can support (bridge and ring need 3, halves and one-way 2). */
export function nemesesFor(nodeCount: number): NemesisName[] {
  return NEMESIS_NAMES.filter((name) => name !== 'mixed' && nodeCount >= minimumNodes(name));
}

function minimumNodes(name: NemesisName): number {
  if (name === 'partition-bridge' || name === 'partition-majorities-ring') return 3;
  if (name === 'partition-halves' || name === 'partition-one-way' || name === 'partition-isolate-one' || name === 'partition-isolate-leader') return 2;
  return 1;
}

function validate(options: ScheduleOptions): void {
  if (new Set(options.nodes).size !== options.nodes.length) throw new InvalidFaultError('schedule nodes must be distinct');
  if (!(options.intervalMs > 0)) throw new InvalidFaultError(`intervalMs must be > 0, got ${options.intervalMs}`);
  if (!(options.timeLimitMs >= 0)) throw new InvalidFaultError(`timeLimitMs must be >= 0, got ${options.timeLimitMs}`);
  const jitter = options.jitter ?? 0.5;
  if (!(jitter >= 0 && jitter < 1)) throw new InvalidFaultError(`jitter must be in [0, 1), got ${jitter}`);
  const needed = options.nemesis === 'mixed' ? 1 : minimumNodes(options.nemesis);
  if (options.nodes.length < needed) {
    throw new InvalidFaultError(`${options.nemesis} needs at least ${needed} nodes, got ${options.nodes.length}`);
  }
}

function drawFault(nemesis: NemesisName, nodes: readonly string[], rng: Prng, maxClockOffsetMs: number): Fault {
  switch (nemesis) {
    case 'mixed':
      return drawFault(rng.pick(nemesesFor(nodes.length)), nodes, rng, maxClockOffsetMs);
    case 'partition-isolate-one': {
      const node = rng.pick(nodes);
      return partition('isolate-one', isolateCuts(node, nodes), `isolate ${node}`);
    }
    case 'partition-isolate-leader':
      return { kind: 'partition-leader', among: [...nodes] };
    case 'partition-halves': {
      const order = rng.shuffle(nodes);
      const cut = Math.floor(order.length / 2);
      return partition('halves', halvesCuts(order), `${order.slice(0, cut).join(',')} | ${order.slice(cut).join(',')}`);
    }
    case 'partition-majorities-ring': {
      const ring = rng.shuffle(nodes);
      return partition('majorities-ring', majoritiesRingCuts(ring), `ring ${ring.join(',')}`);
    }
    case 'partition-bridge': {
      const shape = bridgeShape(rng.shuffle(nodes));
      const description = `${shape.halfA.join(',')} <${shape.bridgeNode}> ${shape.halfB.join(',')}`;
      return partition('bridge', bridgeCuts(shape.halfA, shape.halfB, shape.bridgeNode), description);
    }
    case 'partition-one-way': {
      const [from, to] = rng.shuffle(nodes) as [string, string];
      return partition('one-way', oneWayCuts(from, to), `${from} cannot reach ${to}`);
    }
    case 'kill':
      return { kind: 'kill', nodes: minority(nodes, rng) };
    case 'pause':
      return { kind: 'pause', nodes: minority(nodes, rng) };
    case 'clock': {
      const offsetMs = Math.round((2 * rng.next() - 1) * maxClockOffsetMs);
      return { kind: 'clock', nodes: [rng.pick(nodes)], offsetMs };
    }
  }
}

function partition(shape: PartitionShape, cuts: DirectedLink[], description: string): Fault {
  return { kind: 'partition', shape, cuts, description };
}

/** One node up to a strict minority, so a majority stays up. */
function minority(nodes: readonly string[], rng: Prng): string[] {
  const largest = Math.max(1, Math.floor((nodes.length - 1) / 2));
  return rng.shuffle(nodes).slice(0, 1 + rng.int(largest));
}

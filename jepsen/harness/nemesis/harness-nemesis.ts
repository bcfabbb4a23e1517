// The harness's nemeses: the network ones of jepsen/net (over the routers by
// default), process faults on routers, storage nodes or PostgreSQL, clock
// offsets, their mix, and the targeted faults the §12 scenarios need (the
// roles are resolved when the fault starts: who is primary, who leads).
import { nemesisSchedule, type Fault, type NemesisName } from '../../net/index.js';

export const HARNESS_NEMESES = [
  'none',
  'partition-isolate-one',
  'partition-isolate-leader',
  'partition-halves',
  'partition-majorities-ring',
  'partition-bridge',
  'partition-one-way',
  'kill',
  'pause',
  'clock',
  'storage-kill',
  'storage-pause',
  'postgres-kill',
  'postgres-pause',
  'mixed',
] as const;
export type HarnessNemesis = (typeof HARNESS_NEMESES)[number];

/** Who a targeted fault hits, decided when it starts. */
export type TargetRole =
  | 'primary-storage'
  | 'one-secondary-storage'
  | 'all-secondary-storages'
  | 'storage-majority'
  | 'postgres'
  | 'one-router'
  | 'leader-router'
  | 'router-majority'
  | 'all-routers';

export type HarnessFault =
  | Fault
  | { readonly kind: 'kill-role' | 'pause-role' | 'isolate-role'; readonly role: TargetRole }
  /** Every link between two groups of roles delayed by delayMs (router->PostgreSQL, say). */
  | { readonly kind: 'delay-links'; readonly from: 'routers'; readonly to: 'postgres' | 'storages'; readonly delayMs: number }
  /** Restart every router (SIGKILL all, then start all) at once. */
  | { readonly kind: 'restart-all-routers' }
  /** Cut both ways between the role's storage nodes and every other storage node; routers still reach all (netns only). */
  | { readonly kind: 'cut-storage-links'; readonly role: TargetRole }
  /** Fill the role's storage filesystems to the last byte (a size-limited tmpfs; root only); the stop frees them. */
  | { readonly kind: 'fill-disk'; readonly role: TargetRole };

export interface HarnessEvent {
  readonly atMs: number;
  readonly op: 'start' | 'stop';
  readonly fault: HarnessFault;
}

export interface NemesisNodes {
  readonly routers: readonly string[];
  readonly storages: readonly string[];
  readonly postgres: string;
}

export interface HarnessScheduleOptions {
  readonly nemesis: HarnessNemesis;
  readonly nodes: NemesisNodes;
  readonly seed: number;
  readonly intervalMs: number;
  readonly timeLimitMs: number;
  /** Clock faults move a clock by up to this either way. */
  readonly maxClockOffsetMs?: number;
}

/** The seeded start/stop events of a named nemesis over the fault phase (times from its start). */
export function harnessSchedule(options: HarnessScheduleOptions): HarnessEvent[] {
  if (options.nemesis === 'none') return [];
  const { nemesis, nodes } = options;
  const [netName, targets] = netNemesisOf(nemesis, nodes);
  return nemesisSchedule({
    nemesis: netName,
    nodes: targets,
    seed: options.seed,
    intervalMs: options.intervalMs,
    timeLimitMs: options.timeLimitMs,
    ...(options.maxClockOffsetMs === undefined ? {} : { maxClockOffsetMs: options.maxClockOffsetMs }),
  });
}

function netNemesisOf(nemesis: Exclude<HarnessNemesis, 'none'>, nodes: NemesisNodes): [NemesisName, readonly string[]] {
  switch (nemesis) {
    case 'storage-kill':
      return ['kill', nodes.storages];
    case 'storage-pause':
      return ['pause', nodes.storages];
    case 'postgres-kill':
      return ['kill', [nodes.postgres]];
    case 'postgres-pause':
      return ['pause', [nodes.postgres]];
    default:
      return [nemesis, nodes.routers];
  }
}

/** Does this nemesis move clocks (so processes must start under libfaketime)? */
export function usesClock(nemesis: HarnessNemesis, events: readonly HarnessEvent[]): boolean {
  return nemesis === 'clock' || events.some((e) => e.fault.kind === 'clock');
}

/** One line per fault, for the history and the reports. */
export function describeFault(fault: HarnessFault): string {
  switch (fault.kind) {
    case 'partition':
      return `partition ${fault.shape}: ${fault.description}`;
    case 'partition-leader':
      return `isolate the Raft leader among ${fault.among.join(',')}`;
    case 'kill':
    case 'pause':
      return `${fault.kind} ${fault.nodes.join(',')}`;
    case 'clock':
      return `clock ${fault.nodes.join(',')} ${fault.offsetMs >= 0 ? '+' : ''}${fault.offsetMs} ms`;
    case 'kill-role':
    case 'pause-role':
    case 'isolate-role':
      return `${fault.kind.replace('-role', '')} ${fault.role}`;
    case 'delay-links':
      return `delay ${fault.from}->${fault.to} by ${fault.delayMs} ms`;
    case 'restart-all-routers':
      return 'restart all routers';
    case 'cut-storage-links':
      return `cut storage-to-storage links of ${fault.role}`;
    case 'fill-disk':
      return `fill the disk of ${fault.role}`;
  }
}

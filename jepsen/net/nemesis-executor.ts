// Carries out the network faults of a schedule on a backend. Process faults
// (kill, pause, clock) belong to the harness's process layer and are refused here.
import type { DirectedLink } from './directed-link.js';
import { UnsupportedFaultError } from './errors.js';
import type { Fault, NemesisEvent } from './nemesis-schedule.js';
import type { PartitionBackend } from './partition-backend.js';
import { isolateCuts } from './partition-shapes.js';

export interface NetworkFaultContext {
  /** Who leads now; needed by partition-leader. undefined: no leader, nothing is cut. */
  readonly leader?: () => Promise<string | undefined> | string | undefined;
}

export function isNetworkFault(fault: Fault): boolean {
  return fault.kind === 'partition' || fault.kind === 'partition-leader';
}

/** Apply one event; returns the directed links it cut (empty for a stop). */
export async function applyNetworkEvent(
  backend: PartitionBackend,
  event: NemesisEvent,
  context: NetworkFaultContext = {},
): Promise<DirectedLink[]> {
  const { fault } = event;
  if (!isNetworkFault(fault)) {
    throw new UnsupportedFaultError(`${fault.kind} is a process fault; the network layer does not execute it`);
  }
  if (event.op === 'stop') {
    await backend.heal();
    return [];
  }
  const cuts = await resolveCuts(fault, context);
  await backend.cut(cuts);
  return cuts;
}

async function resolveCuts(fault: Fault, context: NetworkFaultContext): Promise<DirectedLink[]> {
  if (fault.kind === 'partition') return [...fault.cuts];
  if (fault.kind !== 'partition-leader') return [];
  if (!context.leader) throw new UnsupportedFaultError('partition-leader needs a leader callback in the context');
  const leader = await context.leader();
  return leader === undefined ? [] : isolateCuts(leader, fault.among);
}

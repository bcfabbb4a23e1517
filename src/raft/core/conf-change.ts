import { RaftInvariantError } from './errors.js';
import type { ConfChange, ConfChangeType, ConfState, Entry, NodeId } from './types.js';

const CONF_CHANGE_TYPES: readonly ConfChangeType[] = ['addVoter', 'addLearner', 'promote', 'remove'];

// JSON keeps the core free of codec dependencies; configuration entries are rare and tiny.
export function encodeConfChange(change: ConfChange): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ type: change.type, nodeId: change.nodeId }));
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(data));
  } catch {
    throw new RaftInvariantError('configuration change entry is not valid JSON');
  }
  const { type, nodeId } = (parsed ?? {}) as { type?: unknown; nodeId?: unknown };
  if (typeof type !== 'string' || !CONF_CHANGE_TYPES.includes(type as ConfChangeType)) {
    throw new RaftInvariantError(`configuration change has unknown type ${JSON.stringify(type)}`);
  }
  if (typeof nodeId !== 'number' || !Number.isSafeInteger(nodeId) || nodeId <= 0) {
    throw new RaftInvariantError(`configuration change has invalid nodeId ${JSON.stringify(nodeId)}`);
  }
  return { type: type as ConfChangeType, nodeId };
}

/** Why a proposed change cannot apply to `current`, or undefined when it can. */
export function validateConfChange(change: ConfChange, current: ConfState): string | undefined {
  const isVoter = current.voters.includes(change.nodeId);
  const isLearner = current.learners.includes(change.nodeId);
  switch (change.type) {
    case 'addVoter':
      return 'voters join as learners and are then promoted; addVoter only bootstraps a group';
    case 'addLearner':
      if (isVoter) return `node ${change.nodeId} is already a voter`;
      if (isLearner) return `node ${change.nodeId} is already a learner`;
      return undefined;
    case 'promote':
      return isLearner ? undefined : `node ${change.nodeId} is not a learner`;
    case 'remove':
      if (!isVoter && !isLearner) return `node ${change.nodeId} is not a member`;
      if (isVoter && current.voters.length === 1) return `node ${change.nodeId} is the last voter`;
      return undefined;
  }
}

/** The log a brand-new group starts from on every founding member: committed additions at term 1. */
export function bootstrapEntries(voters: readonly NodeId[]): Entry[] {
  return [...voters]
    .sort((a, b) => a - b)
    .map((nodeId, i) => ({ term: 1, index: i + 1, type: 'confChange' as const, data: encodeConfChange({ type: 'addVoter', nodeId }) }));
}

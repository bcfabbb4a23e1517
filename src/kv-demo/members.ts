import type { NodeId } from '../raft/index.js';

/** Parses "1=127.0.0.1:7001,2=127.0.0.1:7002" into a member map, naming what is wrong. */
export function parseMembers(text: string): Map<NodeId, string> {
  const members = new Map<NodeId, string>();
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const match = /^(\d+)=([^\s=]+:\d+)$/.exec(part);
    if (!match) throw new Error(`--members: "${part}" is not of the form <id>=<host>:<port>`);
    const id = Number(match[1]);
    if (!Number.isSafeInteger(id) || id <= 0) throw new Error(`--members: id in "${part}" must be a positive integer`);
    if (members.has(id)) throw new Error(`--members: id ${id} appears twice`);
    members.set(id, match[2]!);
  }
  if (members.size === 0) throw new Error('--members: no members given');
  return members;
}

export function formatMembers(members: ReadonlyMap<NodeId, string>): string {
  return [...members].map(([id, address]) => `${id}=${address}`).join(',');
}

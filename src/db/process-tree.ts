// The server is a postmaster plus one process per session and helper. Every
// backend calls setsid(), so a process-group signal misses them; pausing or
// killing "the server" means signalling each child by pid, found in /proc.
// Synchronous on purpose: these run from process 'exit' hooks too.
import { readFileSync, readdirSync } from 'node:fs';

interface ProcStat {
  ppid: number;
  state: string;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid ..."; comm may itself contain spaces or parentheses.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const [state, ppid] = fields;
  if (state === undefined || ppid === undefined) return undefined;
  return { state, ppid: Number.parseInt(ppid, 10) };
}

export function childPids(parent: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const children: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number.parseInt(entry, 10);
    if (readStat(pid)?.ppid === parent) children.push(pid);
  }
  return children;
}

/** Alive and not a zombie: a zombie holds no resources and cannot be signalled away. */
export function isRunning(pid: number): boolean {
  const stat = readStat(pid);
  if (stat !== undefined) return stat.state !== 'Z' && stat.state !== 'X';
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function signalEach(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone: that is what we wanted.
    }
  }
}

export async function waitUntilGone(pids: readonly number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isRunning)) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

/** Until each process is stopped by a signal (T), or gone. */
export async function waitUntilStopped(pids: readonly number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const settled = (pid: number): boolean => {
    const state = readStat(pid)?.state;
    return state === undefined || state === 'T' || state === 'Z' || state === 'X';
  };
  while (!pids.every(settled)) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}

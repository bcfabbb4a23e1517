// What this host offers for the netns backend, found by looking, not guessing.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { HostCommandError, NetnsUnavailableError } from './errors.js';

export interface HostTools {
  readonly root: boolean;
  /** Absolute paths, or null when absent from PATH (and the sbin folders). */
  readonly ip: string | null;
  readonly nft: string | null;
  readonly iptables: string | null;
  readonly unshare: string | null;
}

export function findExecutable(name: string): string | null {
  const folders = new Set([...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/bin']);
  for (const folder of folders) {
    if (!folder) continue;
    const candidate = join(folder, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

export function detectHostTools(): HostTools {
  return {
    root: process.getuid?.() === 0,
    ip: findExecutable('ip'),
    nft: findExecutable('nft'),
    iptables: findExecutable('iptables'),
    unshare: findExecutable('unshare'),
  };
}

/**
 * What the netns backend lacks here; empty when it can run. Drops are nft
 * rules when nft is installed, else iproute2 policy-routing rules
 * (`ip rule ... blackhole`), so nft is not required.
 */
export function netnsMissing(tools: HostTools = detectHostTools()): string[] {
  const missing: string[] = [];
  if (!tools.root) missing.push(`not root (uid ${process.getuid?.() ?? 'unknown'}): network namespaces need CAP_SYS_ADMIN and CAP_NET_ADMIN`);
  if (!tools.ip) missing.push('the `ip` command (iproute2) is not installed');
  return missing;
}

export function requireNetns(tools: HostTools = detectHostTools()): void {
  const missing = netnsMissing(tools);
  if (missing.length > 0) throw new NetnsUnavailableError(missing);
}

/** Run a host command to completion; a non-zero exit is a HostCommandError. */
export interface HostCommandOptions {
  /** Killed after this long. Default 10 000. */
  readonly timeoutMs?: number;
  /** Default: this process's environment. */
  readonly env?: NodeJS.ProcessEnv;
}

export function runHostCommand(argv: readonly string[], options: HostCommandOptions = {}): Promise<string> {
  const [command, ...args] = argv as [string, ...string[]];
  const execOptions = { timeout: options.timeoutMs ?? 10_000, maxBuffer: 4 * 1024 * 1024, env: options.env ?? process.env };
  return new Promise((resolve, reject) => {
    execFile(command, args, execOptions, (error, stdout, stderr) => {
      if (error) {
        const exitCode = typeof error.code === 'number' ? error.code : null;
        reject(new HostCommandError(argv, exitCode, String(stderr || error.message)));
      } else {
        resolve(String(stdout));
      }
    });
  });
}

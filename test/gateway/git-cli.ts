// Runs the real git CLI in tests, isolated from the user's configuration,
// with bounded time and output.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const GIT_TIMEOUT_MS = 120_000;
const MAX_GIT_OUTPUT_BYTES = 64 * 1024 * 1024;

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function makeGitHome(): string {
  const home = mkdtempSync(path.join(tmpdir(), 'gateway-git-home-'));
  writeFileSync(
    path.join(home, '.gitconfig'),
    '[user]\n\tname = Gateway Test\n\temail = gateway@test.invalid\n[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n',
  );
  return home;
}

/** Resolves with the exit code; never rejects for a non-zero exit. */
export function gitTry(home: string, cwd: string, args: string[]): Promise<GitResult> {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', LANG: 'C' };
  return new Promise((resolve) => {
    execFile('git', args, { cwd, env, timeout: GIT_TIMEOUT_MS, maxBuffer: MAX_GIT_OUTPUT_BYTES }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Resolves with stdout; rejects with git's stderr on failure. */
export async function git(home: string, cwd: string, args: string[]): Promise<string> {
  const result = await gitTry(home, cwd, args);
  if (result.code !== 0) throw new Error(`git ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}

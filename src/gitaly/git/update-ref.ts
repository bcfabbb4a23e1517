// Reference updates through one `git update-ref --stdin -z` transaction, so
// a batch applies entirely or not at all, and git's own locks protect
// against concurrent writers. Failures are classified by git's messages.
import {
  AbortedError,
  FailedPreconditionError,
  GitalyError,
  InvalidArgumentError,
  NotFoundError,
} from '../errors.js';
import { GitCommandError, type GitRunner } from '../git-runner.js';
import { ZERO_OID } from './revision.js';
import { pinTransactionalDeletions } from '../transactional-deletions.js';

export interface RefUpdate {
  ref: string;
  /** ZERO_OID deletes the reference. */
  newOid: string;
  /** undefined: no check; ZERO_OID: the reference must not exist. */
  oldOid?: string;
}

export interface UpdateRefOptions {
  env?: Record<string, string>;
  signal?: AbortSignal;
  /** What a reference not at its expected value becomes; upstream differs per RPC. */
  onMismatch?: (message: string) => GitalyError;
}

export async function updateRefs(git: GitRunner, gitDir: string, updates: readonly RefUpdate[], options: UpdateRefOptions = {}): Promise<void> {
  if (updates.length === 0) return;
  const pinned = await pinTransactionalDeletions(git, gitDir, updates, options.signal);
  // With -z every command and every argument ends in NUL.
  const stdin = ['start', ...pinned.map(instruction), 'prepare', 'commit'].map((line) => `${line}\0`).join('');
  try {
    await git.run({ gitDir, args: ['update-ref', '--stdin', '-z'], stdin, env: options.env, signal: options.signal });
  } catch (error) {
    if (error instanceof GitCommandError) throw classifyUpdateRefError(error.stderr, options.onMismatch);
    throw error;
  }
}

function instruction(update: RefUpdate): string {
  if (update.newOid === ZERO_OID) return `delete ${update.ref}\0${update.oldOid ?? ''}`;
  return `update ${update.ref}\0${update.newOid}\0${update.oldOid ?? ''}`;
}

/** Maps update-ref's stderr to an error with the right status. */
export function classifyUpdateRefError(stderr: string, onMismatch?: (message: string) => GitalyError): GitalyError {
  const message = stderr.replace(/^fatal: /gm, '').trim().split('\n')[0] ?? 'update-ref failed';
  if (/\.lock': File exists/.test(stderr) || /Unable to create .*\.lock/.test(stderr)) {
    return new AbortedError(`reference is locked already: ${message}`);
  }
  if (/is at [0-9a-f]+ but expected|reference already exists|unable to resolve reference|reference is missing/.test(stderr)) {
    return (onMismatch ?? ((m: string) => new FailedPreconditionError(`reference does not match its expected value: ${m}`)))(message);
  }
  if (/exists; cannot create|cannot process .* and .* at the same time|is a prefix of/.test(stderr)) {
    return new FailedPreconditionError(`conflicting references: ${message}`);
  }
  if (/nonexistent object|trying to write non-commit object/.test(stderr)) return new NotFoundError(message);
  if (/invalid|bad name|refusing to update ref/.test(stderr)) return new InvalidArgumentError(message);
  return new GitCommandError(['update-ref'], 1, stderr);
}

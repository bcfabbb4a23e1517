// Edits a commit's tree without a worktree: the parent's tree is read into a
// temporary index, the edits are checked against it with Gitaly's rules
// and messages, applied with update-index, and written with write-tree.
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from '../errors.js';
import type { GitRunner } from '../git-runner.js';
import { ZERO_OID } from './revision.js';

export type TreeAction =
  | { kind: 'create'; path: string; oid: string; executable: boolean }
  | { kind: 'createDir'; path: string; emptyBlobOid: string }
  | { kind: 'update'; path: string; oid: string }
  | { kind: 'move'; path: string; previousPath: string; oid: string | undefined }
  | { kind: 'delete'; path: string }
  | { kind: 'chmod'; path: string; executable: boolean };

interface Entry {
  mode: string;
  oid: string;
}

const FILE_MODE = '100644';
const EXECUTABLE_MODE = '100755';

/** A path inside a tree: relative, no traversal, nothing git refuses. */
export function validateTreePath(value: string, what = 'path'): string {
  if (value.length === 0) throw new InvalidArgumentError(`empty ${what}`);
  if (value.includes('\0')) throw new InvalidArgumentError(`invalid ${what}: contains a NUL byte`);
  const parts = value.split('/');
  if (parts.includes('..')) throw new InvalidArgumentError(`${what} cannot include directory traversal: ${value}`);
  if (value.startsWith('/') || parts.some((p) => p.length === 0 || p === '.' || p.toLowerCase() === '.git')) {
    throw new InvalidArgumentError(`invalid ${what}: ${value}`);
  }
  return value;
}

export class TreeEditor {
  private readonly entries = new Map<string, Entry>();
  private readonly original = new Map<string, Entry>();

  private constructor(
    private readonly git: GitRunner,
    private readonly gitDir: string,
    private readonly indexFile: string,
    private readonly signal: AbortSignal | undefined,
  ) {}

  /** Loads the tree of parentCommit (none: an empty tree) into a temporary index. */
  static async open(git: GitRunner, gitDir: string, tempDir: string, parentCommit: string | undefined, signal?: AbortSignal): Promise<TreeEditor> {
    const editor = new TreeEditor(git, gitDir, path.join(tempDir, `index-${randomUUID()}`), signal);
    await editor.run(parentCommit === undefined ? ['read-tree', '--empty'] : ['read-tree', `${parentCommit}^{tree}`]);
    const { stdout } = await editor.run(['ls-files', '-s', '-z']);
    for (const record of stdout.toString('utf8').split('\0')) {
      const tab = record.indexOf('\t');
      if (tab < 0) continue;
      const [mode = '', oid = ''] = record.slice(0, tab).split(' ');
      const entry = { mode, oid };
      editor.entries.set(record.slice(tab + 1), entry);
      editor.original.set(record.slice(tab + 1), entry);
    }
    return editor;
  }

  apply(action: TreeAction): void {
    switch (action.kind) {
      case 'create':
        this.assertCreatable(action.path, 'A file with this name already exists');
        this.entries.set(action.path, { mode: action.executable ? EXECUTABLE_MODE : FILE_MODE, oid: action.oid });
        return;
      case 'createDir':
        this.assertCreatable(action.path, 'A directory with this name already exists');
        this.entries.set(`${action.path}/.gitkeep`, { mode: FILE_MODE, oid: action.emptyBlobOid });
        return;
      case 'update':
        this.entries.set(action.path, { ...this.existing(action.path), oid: action.oid });
        return;
      case 'move': {
        const previous = this.existing(action.previousPath);
        this.entries.delete(action.previousPath);
        this.assertCreatable(action.path, 'A file with this name already exists');
        this.entries.set(action.path, { mode: previous.mode, oid: action.oid ?? previous.oid });
        return;
      }
      case 'delete':
        this.existing(action.path);
        this.entries.delete(action.path);
        return;
      case 'chmod':
        this.entries.set(action.path, { ...this.existing(action.path), mode: action.executable ? EXECUTABLE_MODE : FILE_MODE });
    }
  }

  /** Writes the edited tree; returns its id. */
  async writeTree(): Promise<string> {
    const records: string[] = [];
    // Removals first, so a file may become a directory within one commit.
    for (const name of this.original.keys()) if (!this.entries.has(name)) records.push(`0 ${ZERO_OID}\t${name}`);
    for (const [name, entry] of this.entries) {
      const before = this.original.get(name);
      if (before?.mode !== entry.mode || before.oid !== entry.oid) records.push(`${entry.mode} ${entry.oid}\t${name}`);
    }
    if (records.length > 0) await this.run(['update-index', '-z', '--index-info'], records.map((r) => `${r}\0`).join(''));
    const { stdout } = await this.run(['write-tree']);
    return stdout.toString('latin1').trim();
  }

  async close(): Promise<void> {
    await rm(this.indexFile, { force: true });
  }

  private existing(name: string): Entry {
    const entry = this.entries.get(name);
    if (entry === undefined) throw new NotFoundError(`A file with this name doesn't exist: ${name}`);
    return entry;
  }

  private assertCreatable(name: string, message: string): void {
    if (this.entries.has(name)) throw new AlreadyExistsError(`${message}: ${name}`);
    const prefix = `${name}/`;
    for (const existing of this.entries.keys()) {
      if (existing.startsWith(prefix)) throw new AlreadyExistsError(`A directory with this name already exists: ${name}`);
    }
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      if (this.entries.has(parent)) throw new AlreadyExistsError(`A file with this name already exists: ${parent}`);
    }
  }

  private run(args: string[], stdin?: string): ReturnType<GitRunner['run']> {
    return this.git.run({ gitDir: this.gitDir, args, stdin, env: { GIT_INDEX_FILE: this.indexFile }, signal: this.signal });
  }
}

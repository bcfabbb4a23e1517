// Loading commits and tags as protocol messages.
import type { GitRunner } from '../git-runner.js';
import type { GitCommitMsg, TagMsg } from '../wire-types.js';
import { readObjects } from './cat-file.js';
import { parseCommit, parseTag } from './object-parser.js';

interface ReadOptions {
  env?: Record<string, string>;
  signal?: AbortSignal;
}

/** Commits by id; ids that are missing or not commits are left out. */
export async function loadCommits(git: GitRunner, gitDir: string, ids: readonly string[], options: ReadOptions = {}): Promise<Map<string, GitCommitMsg>> {
  const objects = await readObjects(git, gitDir, [...new Set(ids)], options);
  const commits = new Map<string, GitCommitMsg>();
  for (const [name, object] of objects) {
    if (object.type === 'commit') commits.set(name, parseCommit(object.id, object.data));
  }
  return commits;
}

/** The commit a revision names (peeling tags), or undefined. */
export async function loadCommit(git: GitRunner, gitDir: string, revision: string, options: ReadOptions = {}): Promise<GitCommitMsg | undefined> {
  const objects = await readObjects(git, gitDir, [`${revision}^{commit}`], options);
  const object = objects.get(`${revision}^{commit}`);
  return object?.type === 'commit' ? parseCommit(object.id, object.data) : undefined;
}

export interface TagRef {
  /** Full reference name, refs/tags/... */
  ref: string;
  oid: string;
  /** The object after peeling, empty for lightweight tags. */
  peeled: string;
}

/** Tags as Gitaly describes them: annotated ones with their message and tagger. */
export async function loadTags(git: GitRunner, gitDir: string, refs: readonly TagRef[], options: ReadOptions = {}): Promise<TagMsg[]> {
  const objects = await readObjects(git, gitDir, [...new Set(refs.map((r) => r.oid))], options);
  const commitIds = refs.map((r) => (r.peeled.length > 0 ? r.peeled : r.oid));
  const commits = await loadCommits(git, gitDir, commitIds, options);
  return refs.map((ref) => {
    const name = Buffer.from(ref.ref.replace(/^refs\/tags\//, ''));
    const object = objects.get(ref.oid);
    const target = commits.get(ref.peeled.length > 0 ? ref.peeled : ref.oid) ?? null;
    if (object?.type !== 'tag') {
      return { name, id: ref.oid, target_commit: target, message: Buffer.alloc(0), message_size: 0, tagger: null, signature_type: 'NONE' };
    }
    const parsed = parseTag(object.data);
    return { name, id: ref.oid, target_commit: target, ...parsed.tag };
  });
}

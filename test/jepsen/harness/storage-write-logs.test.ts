// The harness's split-brain input: each storage node's write log (rotated
// file first) read with its source, and the check's choice between the logs
// and the router-observed stand-in.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { WriteLogLine } from '../../../jepsen/checker/index.js';
import { runChecks } from '../../../jepsen/harness/run-checks.js';
import { acknowledgedWrites, readStorageWriteLogs, withAcknowledgement } from '../../../jepsen/harness/storage-write-logs.js';

const dir = mkdtempSync(path.join(tmpdir(), 'jepsen-write-logs-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const entry = (storage: string, repositoryId: number, generation: number, primary = true): WriteLogLine => ({ storage, repository_id: repositoryId, generation, primary });
const jsonl = (lines: readonly object[]): string => lines.map((l) => `${JSON.stringify(l)}\n`).join('');

t.test('readStorageWriteLogs: the rotated file, then the current one, per node; nodes without a log add nothing', async (t) => {
  const one = path.join(dir, 'g1.jsonl');
  writeFileSync(`${one}.1`, jsonl([entry('gitaly-1', 1, 0)]));
  writeFileSync(one, `${jsonl([entry('gitaly-1', 1, 1)])}{"torn`);
  const two = path.join(dir, 'g2.jsonl');
  writeFileSync(two, jsonl([entry('gitaly-2', 1, 2)]));
  const logs = readStorageWriteLogs([
    { name: 'gitaly-1', writeLog: one },
    { name: 'gitaly-2', writeLog: two },
    { name: 'gitaly-3', writeLog: path.join(dir, 'absent.jsonl') },
    { name: 'gitaly-4' },
  ]);
  t.same(logs.files, [`${one}.1`, one, two]);
  t.same(logs.lines.map((l) => [l.source, l.generation]), [['gitaly-1', 0], ['gitaly-1', 1], ['gitaly-2', 2]]);
  t.match(logs.unreadable, [{ source: 'gitaly-1', lineNumber: 2 }]);
});

t.test('runChecks: split-brain reads the write logs, and the stand-in only when they hold no line', async (t) => {
  const base = { workload: 'set-full' as const, history: [], raftSamples: [], windows: [] };
  const standInSplit = [
    { repository: 'k', generation: 1, storage: 'gitaly-1' },
    { repository: 'k', generation: 1, storage: 'gitaly-2' },
  ];
  const fromLogs = runChecks({ ...base, writers: standInSplit, storageWrites: [entry('gitaly-1', 1, 0), entry('gitaly-2', 1, 0, false)] });
  t.match(fromLogs.checks['split-brain'], { valid: true, source: /^storage write logs/, primaryLines: 1, secondaryLines: 1 }, 'the logs win over the stand-in');
  const split = runChecks({ ...base, writers: [], storageWrites: [entry('gitaly-1', 1, 0), entry('gitaly-2', 1, 0)] });
  t.match(split.checks['split-brain'], { valid: false, violations: [{ repositoryId: 1, generation: 0, storages: ['gitaly-1', 'gitaly-2'] }] });
  t.notOk(split.valid);
  const fallback = runChecks({ ...base, writers: standInSplit, storageWrites: [] });
  t.match(fallback.checks['split-brain'], { valid: false, source: /stand-in.*hold no line/ });
});

t.test('acknowledgedWrites: ids of OK calls from the router logs; withAcknowledgement marks the lines that name a write', async (t) => {
  const routerLog = path.join(dir, 'praefect-1.log');
  writeFileSync(
    routerLog,
    jsonl([
      { msg: 'finished streaming call with code OK', 'grpc.code': 'OK', write_intent: 'a' },
      { msg: 'finished streaming call with code ABORTED', 'grpc.code': 'ABORTED', write_intent: 'b' },
      { msg: 'router listening' },
    ]) + '{"grpc.code":"OK","write_intent":"torn',
  );
  const acked = acknowledgedWrites([routerLog, path.join(dir, 'missing.log')]);
  t.same([...acked], ['a'], 'only the OK one; a torn line and a missing file are skipped');
  const marked = withAcknowledgement([{ ...entry('gitaly-1', 1, 0), write: 'a' }, { ...entry('gitaly-2', 1, 0), write: 'b' }, entry('gitaly-3', 1, 0)], acked);
  t.same(marked.map((l) => l.acknowledged), [true, false, undefined]);
});

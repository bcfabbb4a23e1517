// Re-checking a saved run offline gives the verdict of its history, writes
// results.json and the reports again, and fails on a stale read or two
// leaders in one term.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { recheck, runJepsenCli } from '../../../jepsen/harness/index.js';
import { writeSavedRun } from './fixtures/saved-run.js';

t.test('a linearizable saved history rechecks valid and gets its reports', async (t) => {
  const dir = writeSavedRun();
  const results = recheck(dir);
  t.equal(results.valid, true);
  t.equal(results.checks['linearizability']?.valid, true);
  t.equal(results.checks['raft-invariants']?.valid, true);
  t.equal(results.checks['split-brain']?.valid, true);
  t.equal(results.availability.length, 1, 'one fault window');
  t.equal(results.availability[0]!.firstOkAfterStart, 70, 'the first write invoked after the fault began completed 70 ms later');
  const saved = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as { valid: boolean };
  t.equal(saved.valid, true);
  for (const file of ['latency-raw.svg', 'rate.svg', 'timeline.html']) t.ok(existsSync(path.join(dir, file)), `${file} written`);
});

t.test('a stale read makes the recheck invalid, and the CLI exits 1', async (t) => {
  const dir = writeSavedRun({ staleRead: true });
  const results = recheck(dir);
  t.equal(results.valid, false);
  t.equal(results.checks['linearizability']?.['verdict'], 'illegal');
  t.match(String(results.checks['linearizability']?.['report']), /cannot linearize: p3 read -> ok 1/);
  const lines: string[] = [];
  t.equal(await runJepsenCli(['--recheck', dir], (l) => lines.push(l)), 1);
  t.match(lines.join('\n'), /FAIL linearizability/);
});

t.test('two leaders in one term fail the Raft invariants', async (t) => {
  const results = recheck(writeSavedRun({ twoLeaders: true }), { write: false });
  t.equal(results.valid, false);
  t.match(results.checks['raft-invariants'], { valid: false, violations: [{ kind: 'two-leaders', term: 2 }] });
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import {
  formatHistory,
  HistoryFormatError,
  HistoryPairingError,
  pairOperations,
  parseHistory,
  readHistory,
  writeHistory,
  type Op,
} from '../../../jepsen/checker/index.js';
import { history } from './history-builder.js';

const line = (fields: Record<string, unknown>): string => JSON.stringify({ process: 1, type: 'invoke', f: 'read', value: null, time: 5, index: 0, ...fields });

function formatError(t: Test, text: string, lineNo: number, field: string): void {
  try {
    parseHistory(text, 'h.jsonl');
    t.fail(`expected an error at line ${lineNo} field ${field}`);
  } catch (error) {
    t.type(error, HistoryFormatError);
    const e = error as HistoryFormatError;
    t.equal(e.code, 'JEPSEN_BAD_HISTORY_LINE');
    t.equal(e.line, lineNo, `line of ${e.message}`);
    t.equal(e.field, field, `field of ${e.message}`);
    t.match(e.message, new RegExp(`^h\\.jsonl:${lineNo}: field`));
  }
}

t.test('history.jsonl round-trips through a file', async (t) => {
  const ops: Op[] = history().invoke(1, 'write', { a: [1, 2] }, 'k1').ok(1).invoke('nemesis', 'kill').info('nemesis').invoke(2, 'read', null, 7).ok(2, 3).ops;
  ops[1]!.node = 'n1';
  ops[3]!.error = 'timeout';
  const dir = await mkdtemp(join(tmpdir(), 'jepsen-history-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'history.jsonl');
  await writeHistory(path, ops);
  t.same(await readHistory(path), ops);
  t.equal(formatHistory(ops).split('\n').length, ops.length + 1, 'one line per op, newline-terminated');
});

t.test('a missing value reads as null; blank lines are skipped', async (t) => {
  const text = `${JSON.stringify({ process: 1, type: 'invoke', f: 'read', time: 0, index: 0 })}\n\n${line({ type: 'ok', index: 1 })}\n`;
  const ops = parseHistory(text);
  t.equal(ops.length, 2);
  t.equal(ops[0]!.value, null);
});

t.test('malformed lines name the line and the field', async (t) => {
  const good = line({});
  formatError(t, `${good}\n{not json`, 2, '(json)');
  formatError(t, `${good}\n[1,2]`, 2, '(line)');
  formatError(t, line({ process: 1.5 }), 1, 'process');
  formatError(t, line({ type: 'done' }), 1, 'type');
  formatError(t, line({ f: '' }), 1, 'f');
  formatError(t, line({ key: { a: 1 } }), 1, 'key');
  formatError(t, line({ time: -1 }), 1, 'time');
  formatError(t, line({ time: 'now' }), 1, 'time');
  formatError(t, line({ index: undefined }), 1, 'index');
  formatError(t, line({ node: 3 }), 1, 'node');
  formatError(t, line({ proces: 1 }), 1, 'proces');
  formatError(t, `${good}\n\n${line({ index: 0 })}`, 3, 'index');
  try {
    await readHistory('/nonexistent/history.jsonl');
    t.fail('expected ENOENT');
  } catch (error) {
    t.equal((error as NodeJS.ErrnoException).code, 'ENOENT');
  }
});

t.test('the file name appears in errors from readHistory', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'jepsen-history-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'history.jsonl');
  await writeFile(path, `${line({})}\n${line({ index: 1, type: 'okay' })}\n`);
  await t.rejects(readHistory(path), { code: 'JEPSEN_BAD_HISTORY_LINE', line: 2, field: 'type', message: new RegExp(`^${path}:2: field type`) });
});

t.test('pairing: completions follow invocations on the same process', async (t) => {
  const ops = history().invoke(1, 'write', 1).invoke(2, 'read').ok(2, 0).info(1).invoke(1, 'write', 2).ops;
  const paired = pairOperations(ops);
  t.same(
    paired.map((o) => [o.process, o.f, o.outcome, o.completion?.index]),
    [
      [1, 'write', 'info', 3],
      [2, 'read', 'ok', 2],
      [1, 'write', 'info', undefined],
    ],
  );
  const base = (fields: Partial<Op>): Op => ({ process: 1, type: 'invoke', f: 'read', value: null, time: 0, index: 0, ...fields });
  t.throws(() => pairOperations([base({ type: 'ok' })]), { code: 'JEPSEN_BAD_HISTORY_PAIRING', index: 0, field: 'type' });
  t.throws(() => pairOperations([base({}), base({ index: 1 })]), { code: 'JEPSEN_BAD_HISTORY_PAIRING', index: 1, field: 'process' });
  t.throws(() => pairOperations([base({}), base({ index: 1, type: 'ok', f: 'write' })]), { code: 'JEPSEN_BAD_HISTORY_PAIRING', index: 1, field: 'f' });
  t.throws(() => pairOperations([base({ key: 'a' }), base({ index: 1, type: 'ok', key: 'b' })]), HistoryPairingError);
  t.same(pairOperations([base({ type: 'info', process: 'nemesis' })]), [], 'a standalone info is a note, not an operation');
  t.throws(() => pairOperations([base({ index: 3 }), base({ process: 2, index: 3 })]), { code: 'JEPSEN_BAD_HISTORY_PAIRING', index: 3, field: 'index' }, 'history order must be index order');
});

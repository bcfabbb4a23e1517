// Golden-file Raft scenarios: runs every test/raft/testdata/*.txt script (see
// test/raft/golden/datadriven.ts and test/raft/testdata/README.md).
//
//   npx tap test/raft/golden.test.ts                     check every file
//   REWRITE=1 npx tap test/raft/golden.test.ts           rewrite the expected outputs in place
//   GOLDEN=snapshot npx tap test/raft/golden.test.ts     only files whose name contains "snapshot"

import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { diffLines, parseScript, runScriptFile, serializeScript } from './golden/datadriven.js';

const dir = fileURLToPath(new URL('./testdata/', import.meta.url));
const rewrite = process.env.REWRITE === '1' || process.env.REWRITE === 'true';
const only = process.env.GOLDEN ?? '';
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.txt') && f.includes(only))
  .sort();

t.test('the datadriven format round-trips', async (t) => {
  const sample = '# c\n\ncmd a=1\n----\nout\n\n# tail\n';
  t.equal(serializeScript(parseScript(sample), []), sample);
  const missing = parseScript('one\ntwo\n----\nx\n');
  t.same(
    missing.blocks.map((b) => [b.command, b.expected]),
    [
      ['one', undefined],
      ['two', ['x']],
    ],
  );
  t.equal(serializeScript(missing, [['ok'], ['x']]), 'one\n----\nok\n\ntwo\n----\nx\n');
  t.equal(diffLines(['a', 'b'], ['a', 'c']), '    a\n  + c\n  - b');
  for (const file of files) {
    const text = readFileSync(join(dir, file), 'utf8');
    t.equal(serializeScript(parseScript(text), []), text, `${file} is in canonical form`);
  }
});

t.ok(files.length > 0 || only !== '', 'there are golden files');

for (const file of files) {
  t.test(file, async (t) => {
    const result = await runScriptFile(join(dir, file), `test/raft/testdata/${file}`, rewrite);
    for (const failure of result.failures) {
      t.fail(failure.headline, failure.detail === undefined ? {} : { diff: failure.detail });
    }
    if (result.failures.length === 0) t.pass(`${result.commands} commands${result.rewritten ? ' (rewritten)' : ''}`);
  });
}

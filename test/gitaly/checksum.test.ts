// CalculateChecksum must agree with Gitaly's: the expected values are those
// Gitaly's own tests publish for the same show-ref output.
import t from 'tap';
import { checksumOfShowRef, ZERO_CHECKSUM } from '../../src/gitaly/index.js';

const MASTER = 'f21f76b804422462e79f9f99d5b14856e130ed71 refs/heads/master';
const cases: Array<[string, string[], string]> = [
  ['no references', [], ZERO_CHECKSUM],
  ['one branch', [MASTER], 'bba299616da21e268890f1691c3f6ea788c6cdc9'],
  ['a duplicate cancels itself out', [MASTER, 'f21f76b804422462e79f9f99d5b14856e130ed71 refs/heads/feature', 'f21f76b804422462e79f9f99d5b14856e130ed71 refs/heads/feature'], 'bba299616da21e268890f1691c3f6ea788c6cdc9'],
  ['references outside the counted prefixes are ignored', [MASTER, '860de2dde3d6673d4a494d3c2ceeae9786a556ba foo/bar'], 'bba299616da21e268890f1691c3f6ea788c6cdc9'],
  ['two branches on one commit', [MASTER, 'f21f76b804422462e79f9f99d5b14856e130ed71 refs/heads/feature'], 'f5c4203236292be5f212710c0b042051ba3e14cf'],
  ['two branches on two commits', [MASTER, '860de2dde3d6673d4a494d3c2ceeae9786a556ba refs/heads/feature'], '56ca38be577db6bdda47a840d1061ad47abc3619'],
];

for (const [name, lines, expected] of cases) {
  t.equal(checksumOfShowRef(Buffer.from(lines.map((l) => `${l}\n`).join(''))), expected, name);
}

t.test('order does not matter', async (t) => {
  const a = checksumOfShowRef(Buffer.from(`${MASTER}\n860de2dde3d6673d4a494d3c2ceeae9786a556ba refs/tags/v1\n`));
  const b = checksumOfShowRef(Buffer.from(`860de2dde3d6673d4a494d3c2ceeae9786a556ba refs/tags/v1\n${MASTER}\n`));
  t.equal(a, b);
});

t.test('counted prefixes', async (t) => {
  const counted = ['HEAD', 'refs/heads/x', 'refs/tags/v1', 'refs/keep-around/abc', 'refs/merge-requests/1/head', 'refs/environments/2/head', 'refs/notes/commits'];
  const ignored = ['foo/bar', 'refs/foo/bar:baz', 'tags/v0.0.1', 'merge-requests/11/head', 'refs/remotes/origin/main'];
  for (const ref of counted) t.not(checksumOfShowRef(Buffer.from(`${'a'.repeat(40)} ${ref}\n`)), ZERO_CHECKSUM, ref);
  for (const ref of ignored) t.equal(checksumOfShowRef(Buffer.from(`${'a'.repeat(40)} ${ref}\n`)), ZERO_CHECKSUM, ref);
});

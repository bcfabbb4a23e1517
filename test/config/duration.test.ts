// Go-style duration strings, exactly, in whole milliseconds.
import t from 'tap';
import { formatDurationMs, parseDurationMs } from '../../src/config/index.js';

t.test('accepted spellings', async (t) => {
  const cases: Array<[string, number]> = [
    ['0', 0],
    ['1s', 1_000],
    ['250ms', 250],
    ['1m30s', 90_000],
    ['1.5h', 5_400_000],
    ['1.1s', 1_100],
    ['0.1s', 100],
    ['.5s', 500],
    ['+2s', 2_000],
    ['1000us', 1],
    ['1000µs', 1],
    ['1000000ns', 1],
    ['2h45m', 9_900_000],
    ['0s', 0],
  ];
  for (const [text, ms] of cases) t.same(parseDurationMs(text), { ok: true, ms }, text);
});

t.test('refused spellings say why', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['', /empty/],
    ['1', /unit/],
    ['10', /unit/],
    ['s', /number before/],
    ['1x', /unit/],
    ['-1s', /negative/],
    ['1.5ms', /whole number of milliseconds/],
    ['1ns', /whole number of milliseconds/],
    ['1s ', /unit/],
    [' 1s', /unit/],
    ['1 s', /unit/],
    ['1e3ms', /unit/],
    ['0.0000000001s', /finer than a nanosecond/],
    ['9'.repeat(65), /longer than 64/],
    ['99999999999999999h', /too long/],
  ];
  for (const [text, reason] of cases) {
    const parsed = parseDurationMs(text);
    t.equal(parsed.ok, false, JSON.stringify(text));
    if (!parsed.ok) t.match(parsed.reason, reason, JSON.stringify(text));
  }
});

t.test('formatting picks the largest exact unit and round-trips', async (t) => {
  t.equal(formatDurationMs(0), '0s');
  t.equal(formatDurationMs(100), '100ms');
  t.equal(formatDurationMs(1_500), '1500ms');
  t.equal(formatDurationMs(2_000), '2s');
  t.equal(formatDurationMs(120_000), '2m');
  t.equal(formatDurationMs(7_200_000), '2h');
  for (const ms of [1, 99, 1_000, 61_000, 3_600_000, 86_400_000]) {
    t.same(parseDurationMs(formatDurationMs(ms)), { ok: true, ms });
  }
});

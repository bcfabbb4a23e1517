// One short real run end to end: routers, storage nodes and embedded
// PostgreSQL as processes behind fault proxies, register ops through random
// routers, a seeded isolate-one partition, heal, recovery, final reads, every
// checker, and the store folder. It must pass, and say so in its files.
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { buildConfig, runTest } from '../../../jepsen/harness/index.js';
import { parseHistory } from '../../../jepsen/checker/index.js';

const seed = Number(process.env.SEED ?? 1);
t.comment(`SEED=${seed}`);

t.test('a 16 s register run under isolate-one partitions passes every checker and fills its store folder', { timeout: 180_000 }, async (t) => {
  const storeRoot = mkdtempSync(path.join(tmpdir(), 'jepsen-store-'));
  t.teardown(() => rmSync(storeRoot, { recursive: true, force: true }));
  const base = { seed, routers: 3, storages: 3, timeLimitMs: 16_000, net: 'proxy' as const, concurrency: 4, nemesisIntervalMs: 3_000, monitorIntervalMs: 1_000 };
  const config = buildConfig(base, 'register', 'partition-isolate-one');
  t.ok(config.schedule.length >= 2, 'the seed schedules at least one partition');
  const log: string[] = [];
  const started = Date.now();
  const outcome = await runTest(config, { storeRoot, log: (line) => log.push(line) });
  t.comment(`run took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  for (const [name, check] of Object.entries(outcome.results.checks)) t.ok(check.valid, `${name} passes`);
  t.equal(outcome.valid, true, log.join('\n'));

  for (const file of ['test.json', 'history.jsonl', 'results.json', 'raft-samples.jsonl', 'writers.jsonl', 'nemesis.json', 'latency-raw.svg', 'rate.svg', 'timeline.html']) {
    t.ok(existsSync(path.join(outcome.dir, file)), `${file} in the store folder`);
  }
  for (const name of ['praefect-1', 'praefect-2', 'praefect-3', 'gitaly-1']) t.ok(existsSync(path.join(outcome.dir, 'logs', `${name}.log`)), `${name}'s log kept`);
  t.equal(readlinkSync(path.join(storeRoot, 'latest')), path.basename(outcome.dir), 'latest points at the run');

  const history = parseHistory(readFileSync(path.join(outcome.dir, 'history.jsonl'), 'utf8'));
  const nemesis = history.filter((o) => o.process === 'nemesis').map((o) => o.f);
  t.ok(nemesis.includes('start') && nemesis.includes('stop') && nemesis.includes('heal'), `the nemesis started, stopped and healed (${nemesis.join(',')})`);
  const ok = (f: string): number => history.filter((o) => o.type === 'ok' && o.f === f).length;
  t.ok(ok('write') > 0 && ok('read') > 0, `writes (${ok('write')}) and reads (${ok('read')}) succeeded`);
  const heal = history.find((o) => o.f === 'heal')!;
  t.ok(history.some((o) => o.type === 'ok' && o.f === 'read' && o.time > heal.time), 'final reads after the heal');
  const results = JSON.parse(readFileSync(path.join(outcome.dir, 'results.json'), 'utf8')) as { valid: boolean };
  t.equal(results.valid, true);
});

// CI's smoke subset of DESIGN §12's scenarios (issue 6 §7): short real runs,
// each asserting its scenario's expectations on top of every checker. Rows
// whose expectation is a time bound in probe intervals (primary-storage-down)
// are left to the suite: CI runs every test file at once on two cores, where
// probe timing says more about the load than about the router. SEED=n replays.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { buildScenarioConfig, runTest } from '../../../jepsen/harness/index.js';

const seed = Number(process.env.SEED ?? 2);
t.comment(`SEED=${seed}`);

const SMOKE = ['secondary-down', 'majority-of-routers-down'] as const;

for (const name of SMOKE) {
  t.test(`scenario ${name}`, { timeout: 240_000 }, async (t) => {
    const storeRoot = mkdtempSync(path.join(tmpdir(), 'jepsen-smoke-'));
    t.teardown(() => rmSync(storeRoot, { recursive: true, force: true }));
    const base = { seed, routers: 3, storages: 3, timeLimitMs: 20_000, net: 'proxy' as const, concurrency: 4, nemesisIntervalMs: 5_000, monitorIntervalMs: 500 };
    const log: string[] = [];
    const started = Date.now();
    const outcome = await runTest(buildScenarioConfig(base, name), { storeRoot, log: (line) => log.push(line) });
    t.comment(`${name} took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    for (const [check, result] of Object.entries(outcome.results.checks)) t.ok(result.valid, `${check} passes`, result.valid ? {} : { detail: JSON.stringify(result).slice(0, 2_000) });
    t.equal(outcome.valid, true, log.join('\n'));
  });
}

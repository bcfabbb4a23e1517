import t from 'tap';
import { failureReport, nodesForSeed, runSeed } from './sim/run-seeds.js';

// CI sweeps SIM_SEEDS seeds (500 by default); `npm run sim -- --seeds 10000` sweeps more.
const seeds = Number(process.env.SIM_SEEDS ?? 500);
const start = Number(process.env.SIM_START ?? 1);

t.test(`deterministic simulation: ${seeds} seeds from ${start}, 3 and 5 nodes`, async (t) => {
  let failed = 0;
  let applied = 0;
  let reads = 0;
  for (let seed = start; seed < start + seeds; seed++) {
    const result = await runSeed(seed);
    applied += result.applied;
    reads += result.readsChecked;
    if (!result.ok) {
      failed++;
      t.fail(`seed ${seed} (${nodesForSeed(seed)} nodes)`, { diagnostic: true, report: failureReport(result) });
    }
  }
  t.equal(failed, 0, `all seeds hold every invariant and recover after healing`);
  t.ok(applied > seeds * 100, `the runs did real work: ${applied} entries applied`);
  t.ok(reads > seeds * 5, `linearizable reads were checked: ${reads}`);
});

t.test('a seed replays identically', async (t) => {
  const first = await runSeed(4242);
  const second = await runSeed(4242);
  t.same(second, first, 'same seed, same run, same trace');
});

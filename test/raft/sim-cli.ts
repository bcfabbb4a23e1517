// The simulator's command line: `npm run sim -- --seeds 10000` sweeps seeds,
// `npm run sim -- --seed 1234` replays one and prints its trace.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { describeResult } from './sim/simulator.js';
import { failureReport, runSeed } from './sim/run-seeds.js';

const argv = await yargs(hideBin(process.argv))
  .scriptName('npm run sim --')
  .usage('$0 [--seeds N] [--start S] | --seed S')
  .option('seeds', { type: 'number', default: 500, describe: 'how many consecutive seeds to run' })
  .option('start', { type: 'number', default: 1, describe: 'first seed of the sweep' })
  .option('seed', { type: 'number', describe: 'replay one seed and print its summary (and trace on failure)' })
  .option('nodes', { type: 'number', choices: [3, 5], describe: 'force the group size (default: 3 for even seeds, 5 for odd)' })
  .option('chaos-ticks', { type: 'number', describe: 'ticks of faults before healing (default 600)' })
  .strict()
  .help()
  .parse();

const overrides = {
  ...(argv.nodes ? { nodes: argv.nodes as 3 | 5 } : {}),
  ...(argv['chaos-ticks'] ? { chaosTicks: argv['chaos-ticks'] } : {}),
};

if (argv.seed !== undefined) {
  const result = await runSeed(argv.seed, overrides);
  console.log(result.ok ? describeResult(result) : failureReport(result));
  process.exit(result.ok ? 0 : 1);
}

const started = process.hrtime.bigint();
let failed = 0;
const totals = { applied: 0, reads: 0, crashes: 0, confChanges: 0 };
for (let seed = argv.start; seed < argv.start + argv.seeds; seed++) {
  const result = await runSeed(seed, overrides);
  totals.applied += result.applied;
  totals.reads += result.readsChecked;
  totals.crashes += result.crashes;
  totals.confChanges += result.confChanges;
  if (!result.ok) {
    failed++;
    console.log(failureReport(result));
  }
  if ((seed - argv.start + 1) % 100 === 0) console.log(`... ${seed - argv.start + 1} seeds, ${failed} failed`);
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
console.log(
  `${argv.seeds} seeds from ${argv.start}: ${argv.seeds - failed} passed, ${failed} failed in ${seconds.toFixed(1)} s ` +
    `(applied ${totals.applied}, reads checked ${totals.reads}, crashes ${totals.crashes}, membership changes ${totals.confChanges})`,
);
process.exit(failed === 0 ? 0 : 1);

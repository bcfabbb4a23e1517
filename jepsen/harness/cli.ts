// `npm run jepsen` and `npm run jepsen:suite`: one run, a recheck of a saved
// run, or every §12 scenario in turn. The exit code is 0 only when every
// checker (and every expectation) passed.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildScenarioConfig, ClockSkipped, NotRunnable, parseCommand, USAGE, UsageError, type BaseOptions } from './cli-options.js';
import { recheck } from './recheck.js';
import { runTest } from './run-test.js';
import type { CheckResults } from './run-checks.js';
import { SCENARIOS } from './scenarios.js';
import { defaultStoreRoot } from './store.js';

export const EXIT_INVALID = 1;
export const EXIT_USAGE = 2;
export const EXIT_SKIPPED = 3;

export async function runJepsenCli(argv: readonly string[], out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<number> {
  try {
    const command = parseCommand(argv);
    switch (command.kind) {
      case 'help':
        out(USAGE);
        return 0;
      case 'recheck': {
        const results = recheck(command.dir);
        printVerdict(out, command.dir, results);
        return results.valid ? 0 : EXIT_INVALID;
      }
      case 'run': {
        out(`jepsen: ${command.config.name}, seed ${command.config.seed} (replay with --seed ${command.config.seed})`);
        const outcome = await runTest(command.config, { keepCluster: command.keepCluster, ...(command.storeRoot === undefined ? {} : { storeRoot: command.storeRoot }) });
        printVerdict(out, outcome.dir, outcome.results);
        return outcome.valid ? 0 : EXIT_INVALID;
      }
      case 'suite':
        return await runSuite(command.base, command.only, command.storeRoot, out);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      out(`jepsen: ${error.message}\n${USAGE}`);
      return EXIT_USAGE;
    }
    if (error instanceof ClockSkipped || error instanceof NotRunnable) {
      out(`jepsen: ${error.message}`);
      return EXIT_SKIPPED;
    }
    throw error;
  }
}

interface SuiteRow {
  scenario: string;
  status: 'pass' | 'FAIL' | 'not run' | 'error';
  seconds: number;
  dir?: string;
  detail: string;
}

async function runSuite(base: BaseOptions, only: readonly string[], storeRoot: string | undefined, out: (line: string) => void): Promise<number> {
  const rows: SuiteRow[] = [];
  for (const scenario of SCENARIOS) {
    if (only.length > 0 && !only.includes(scenario.name)) continue;
    if (scenario.unsupported !== undefined) {
      rows.push({ scenario: scenario.name, status: 'not run', seconds: 0, detail: scenario.unsupported });
      out(`suite: ${scenario.name}: not run (${scenario.unsupported})`);
      continue;
    }
    const started = Date.now();
    let config;
    try {
      config = buildScenarioConfig(base, scenario.name);
    } catch (error) {
      if (!(error instanceof NotRunnable)) throw error;
      rows.push({ scenario: scenario.name, status: 'not run', seconds: 0, detail: error.message });
      out(`suite: ${scenario.name}: not run (${error.message})`);
      continue;
    }
    try {
      out(`suite: ${scenario.name} (${scenario.fault}: ${scenario.expected})`);
      const outcome = await runTest(config, storeRoot === undefined ? {} : { storeRoot });
      const failed = Object.entries(outcome.results.checks).filter(([, c]) => !c.valid).map(([name]) => name);
      rows.push({ scenario: scenario.name, status: outcome.valid ? 'pass' : 'FAIL', seconds: (Date.now() - started) / 1000, dir: outcome.dir, detail: failed.join(', ') });
    } catch (error) {
      rows.push({ scenario: scenario.name, status: 'error', seconds: (Date.now() - started) / 1000, detail: String(error) });
    }
    const row = rows[rows.length - 1]!;
    out(`suite: ${row.scenario}: ${row.status} in ${row.seconds.toFixed(0)} s ${row.detail}`);
  }
  const summary = path.join(storeRoot ?? defaultStoreRoot(), `suite-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(summary, `${JSON.stringify({ seed: base.seed, rows }, null, 2)}\n`);
  out(`suite summary: ${summary}`);
  for (const row of rows) out(`  ${row.status.padEnd(7)} ${row.scenario.padEnd(30)} ${row.seconds.toFixed(0).padStart(4)} s  ${row.detail}`);
  return rows.every((r) => r.status === 'pass' || r.status === 'not run') ? 0 : EXIT_INVALID;
}

function printVerdict(out: (line: string) => void, dir: string, results: CheckResults): void {
  for (const [name, check] of Object.entries(results.checks)) out(`  ${check.valid ? 'pass' : 'FAIL'} ${name}`);
  const byF = Object.entries(results.stats.byF).map(([f, c]) => `${f} ok ${c.ok} fail ${c.fail} info ${c.info}`).join('; ');
  out(`  ops: ${results.stats.total} (${byF})`);
  if (results.setup !== undefined) out(`  repositories: ${results.setup.keys} made, ${results.setup.failures} failed to set up`);
  out(`${results.valid ? 'valid' : 'INVALID'}: ${dir}`);
}

// Re-checks a saved run offline: reads its store folder, runs every checker
// (and its scenario's expectations) again, rewrites results.json and the
// reports, and returns the verdict.
import { runChecks, type CheckResults } from './run-checks.js';
import { evaluateScenario, scenarioByName } from './scenarios.js';
import { faultBands, readSavedRun, writeResults } from './store.js';

export interface RecheckOptions {
  /** Rewrite results.json and the reports in the folder; default true. */
  readonly write?: boolean;
}

export function recheck(dir: string, options: RecheckOptions = {}): CheckResults {
  const run = readSavedRun(dir);
  const windows = faultBands(run.events, run.history).map((b) => ({ start: b.start, end: b.end, name: b.label }));
  const checked = runChecks({ workload: run.config.workload, history: run.history, raftSamples: run.raftSamples, writers: run.writers, storageWrites: run.storageWrites, windows });
  const results = run.config.scenario === undefined ? checked : evaluateScenario(scenarioByName(run.config.scenario), run.config, checked, run.history, windows, run.probes, run.writers);
  if (options.write !== false) writeResults(dir, run.config, run.history, run.events, results);
  return results;
}

// The Jepsen harness (issue 6): a cluster of real processes behind fault
// proxies, client workers running Gitaly RPCs through random routers,
// seeded nemeses, phases (warm-up, faults, heal, recovery, final reads),
// every checker, and a store folder with the history, results and reports.
export { runJepsenCli, EXIT_INVALID, EXIT_SKIPPED, EXIT_USAGE } from './cli.js';
export { parseCommand, parseArgs, buildConfig, buildScenarioConfig, UsageError, ClockSkipped, NotRunnable, USAGE, type Command, type BaseOptions } from './cli-options.js';
export { runTest, type RunOutcome, type RunOptions } from './run-test.js';
export { recheck, type RecheckOptions } from './recheck.js';
export { runChecks, opStats, WRITE_FS, type CheckInputs, type CheckResults, type CheckSummary, type OpStats } from './run-checks.js';
export { SCENARIOS, scenarioByName, scenarioSchedule, evaluateScenario, checkExpectation, type Scenario, type Expectation, type ExpectationResult, type ScenarioProbes } from './scenarios.js';
export { splitTimeLimit, type TestConfig, type PhaseSplit, type NetBackend } from './test-config.js';
export { HistoryRecorder, HistoryLimitError, type Invocation } from './history-recorder.js';
export { parseReplicationOutcomes, outcomeDelta, sumCounts, scrapeReplicationOutcomes, type OutcomeCounts, type OutcomeDelta, type ReplicationProbe } from './replication-probe.js';
export { NetnsClusterNetwork, type ClusterNetwork } from './cluster-network.js';
export { onInterrupt } from './interrupt-cleanup.js';
export { TestCluster, CLIENT_NODE, POSTGRES_NODE, NETNS_FAMILY, apiNode, type TestClusterOptions, type ProcessControl } from './test-cluster.js';
export { ClusterObserver, type ObserverOptions, type CatchUp } from './cluster-observer.js';
export { ClientWorkers, runOp, type ClientWorkersOptions } from './client-workers.js';
export { GitalyCalls, describeError, statusName, type RepositoryRef } from './gitaly-calls.js';
export { HARNESS_NEMESES, harnessSchedule, describeFault, usesClock, type HarnessNemesis, type HarnessFault, type HarnessEvent, type TargetRole, type NemesisNodes } from './nemesis/harness-nemesis.js';
export { FaultExecutor, type AppliedFault } from './nemesis/fault-executor.js';
export { DiskFiller, DiskFaultUnavailableError, diskFaultMissing } from './nemesis/disk-filler.js';
export { ClockFaker, ClockFaultUnavailableError, faketimeOffset, findLibfaketime } from './nemesis/clock-faker.js';
export { createStoreDir, writeRunFiles, writeResults, readSavedRun, faultBands, defaultStoreRoot, copyLogs, type AppliedEvent, type SavedRun } from './store.js';
export { latencySvg, rateSvg, type FaultBand } from './report/charts.js';
export { timelineHtml } from './report/timeline.js';
export * from './workloads/index.js';

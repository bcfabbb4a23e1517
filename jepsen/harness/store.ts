// The store folder of a run: jepsen/store/<timestamp>/ with a `latest` link,
// holding test.json, history.jsonl, the Raft samples, the write observations,
// the nemesis events, results.json, the node logs and the reports.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { findProjectRoot } from '../../src/protocol/index.js';
import { formatHistory, parseHistory, type Op, type RaftSample, type StorageWrite, type WriteLogLine } from '../checker/index.js';
import { latencySvg, rateSvg, type FaultBand } from './report/charts.js';
import { timelineHtml } from './report/timeline.js';
import type { CheckResults } from './run-checks.js';
import type { ScenarioProbes } from './scenarios.js';
import type { TestConfig } from './test-config.js';

/** A nemesis event as it happened: its time in the history's clock (ms since the run began). */
export interface AppliedEvent {
  readonly time: number;
  readonly op: 'start' | 'stop' | 'heal';
  readonly description: string;
  readonly nodes: readonly string[];
}

export interface RunFiles {
  readonly config: TestConfig;
  readonly history: readonly Op[];
  readonly raftSamples: readonly RaftSample[];
  readonly raftSamplesDropped: number;
  readonly writers: readonly StorageWrite[];
  /** Every storage node's write-log lines (with `source`, the node). */
  readonly storageWrites?: readonly WriteLogLine[];
  readonly events: readonly AppliedEvent[];
  readonly probes: ScenarioProbes;
  readonly results: CheckResults;
}

export function defaultStoreRoot(): string {
  return path.join(findProjectRoot(), 'jepsen', 'store');
}

/** A fresh <root>/<timestamp>/ and the `latest` link pointing at it. */
export function createStoreDir(root = defaultStoreRoot()): string {
  mkdirSync(root, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  let dir = path.join(root, stamp);
  for (let n = 2; existsSync(dir); n++) dir = path.join(root, `${stamp}-${n}`);
  mkdirSync(dir);
  const latest = path.join(root, 'latest');
  rmSync(latest, { force: true });
  symlinkSync(path.basename(dir), latest);
  return dir;
}

export function writeRunFiles(dir: string, files: RunFiles): void {
  writeFileSync(path.join(dir, 'test.json'), `${JSON.stringify(files.config, null, 2)}\n`);
  writeFileSync(path.join(dir, 'history.jsonl'), formatHistory(files.history));
  writeFileSync(path.join(dir, 'raft-samples.jsonl'), files.raftSamples.map((s) => `${JSON.stringify(s)}\n`).join(''));
  writeFileSync(path.join(dir, 'writers.jsonl'), files.writers.map((w) => `${JSON.stringify(w)}\n`).join(''));
  writeFileSync(path.join(dir, STORAGE_WRITES_FILE), (files.storageWrites ?? []).map((w) => `${JSON.stringify(w)}\n`).join(''));
  writeFileSync(path.join(dir, 'nemesis.json'), `${JSON.stringify({ events: files.events, raftSamplesDropped: files.raftSamplesDropped, probes: files.probes }, null, 2)}\n`);
  writeResults(dir, files.config, files.history, files.events, files.results);
}

/** results.json and the reports (also what a recheck rewrites). */
export function writeResults(dir: string, config: TestConfig, history: readonly Op[], events: readonly AppliedEvent[], results: CheckResults): void {
  writeFileSync(path.join(dir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  const bands = faultBands(events, history);
  writeFileSync(path.join(dir, 'latency-raw.svg'), latencySvg(history, bands));
  writeFileSync(path.join(dir, 'rate.svg'), rateSvg(history, bands));
  writeFileSync(path.join(dir, 'timeline.html'), timelineHtml(config, history, bands, results));
}

export interface SavedRun {
  readonly config: TestConfig;
  readonly history: Op[];
  readonly raftSamples: RaftSample[];
  readonly writers: StorageWrite[];
  readonly storageWrites: WriteLogLine[];
  readonly events: AppliedEvent[];
  readonly probes: ScenarioProbes;
}

/** The storage nodes' write logs, merged (input of the split-brain check). */
const STORAGE_WRITES_FILE = 'storage-writes.jsonl';

export function readSavedRun(dir: string): SavedRun {
  const text = (name: string): string => readFileSync(path.join(dir, name), 'utf8');
  const lines = <T>(name: string): T[] => (existsSync(path.join(dir, name)) ? text(name).split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as T) : []);
  const nemesis = existsSync(path.join(dir, 'nemesis.json')) ? (JSON.parse(text('nemesis.json')) as { events: AppliedEvent[]; probes?: ScenarioProbes }) : { events: [] };
  return {
    config: JSON.parse(text('test.json')) as TestConfig,
    history: parseHistory(text('history.jsonl'), path.join(dir, 'history.jsonl')),
    raftSamples: lines<RaftSample>('raft-samples.jsonl'),
    writers: lines<StorageWrite>('writers.jsonl'),
    storageWrites: lines<WriteLogLine>(STORAGE_WRITES_FILE),
    events: nemesis.events,
    probes: nemesis.probes ?? {},
  };
}

/** Start/stop pairs as shaded bands; a fault never stopped ends at the heal (or the history's end). */
export function faultBands(events: readonly AppliedEvent[], history: readonly Op[]): FaultBand[] {
  const bands: FaultBand[] = [];
  const open: AppliedEvent[] = [];
  const end = history[history.length - 1]?.time ?? 0;
  for (const event of events) {
    if (event.op === 'start') open.push(event);
    else if (event.op === 'stop') {
      const start = open.shift();
      if (start !== undefined) bands.push({ start: start.time, end: event.time, label: start.description });
    } else {
      for (const start of open.splice(0)) bands.push({ start: start.time, end: event.time, label: start.description });
    }
  }
  for (const start of open) bands.push({ start: start.time, end, label: start.description });
  return bands;
}

export function copyLogs(from: string, to: string): void {
  if (!existsSync(from)) return;
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) copyFileSync(path.join(from, name), path.join(to, name));
}

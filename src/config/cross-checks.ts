// Checks that span fields. They read the raw document leniently, so they run
// even when single fields are invalid and every problem is reported at once.
import { DEFAULTS } from './defaults.js';
import { formatDurationMs, parseDurationMs } from './duration.js';
import type { KeyPath } from './key-path.js';
import { has, integerAt, isTable, stringAt, tableAt, tablesAt, type RawTable } from './raw-reader.js';

export interface RawProblem {
  readonly path: KeyPath;
  readonly message: string;
}

type Check = (raw: RawTable) => RawProblem[];

export function crossCheck(raw: unknown): RawProblem[] {
  if (!isTable(raw)) return [];
  return CHECKS.flatMap((check) => check(raw));
}

function listeners(raw: RawTable): RawProblem[] {
  const problems: RawProblem[] = [];
  if (!has(raw, 'listen_addr') && !has(raw, 'tls_listen_addr')) {
    problems.push({ path: ['listen_addr'], message: 'no listener: set listen_addr, tls_listen_addr or both' });
  }
  if (has(raw, 'tls_listen_addr') && !has(raw, 'tls')) {
    problems.push({ path: ['tls'], message: 'tls_listen_addr needs [tls] certificate_path and key_path' });
  }
  if (tableAt(raw, 'raft')?.['tls'] === true && !has(raw, 'tls')) {
    problems.push({ path: ['raft', 'tls'], message: 'Raft over TLS needs [tls] certificate_path and key_path' });
  }
  return problems;
}

function virtualStorageNames(raw: RawTable): RawProblem[] {
  const names = tablesAt(raw, 'virtual_storage').map((vs) => stringAt(vs, 'name'));
  return duplicates(names).map((index) => ({
    path: ['virtual_storage', index, 'name'],
    message: `duplicate virtual storage name "${names[index] ?? ''}"`,
  }));
}

// Within one virtual storage: storage names are identities, and two storages
// on one address would be one failure domain counted as two replicas.
function nodes(raw: RawTable): RawProblem[] {
  return tablesAt(raw, 'virtual_storage').flatMap((vs, vsIndex) => {
    const list = tablesAt(vs, 'node');
    const named = duplicates(list.map((n) => stringAt(n, 'storage'))).map((i) => ({
      path: ['virtual_storage', vsIndex, 'node', i, 'storage'] as KeyPath,
      message: `duplicate storage "${stringAt(list[i], 'storage') ?? ''}" in virtual storage "${stringAt(vs, 'name') ?? ''}"`,
    }));
    const addressed = duplicates(list.map((n) => stringAt(n, 'address'))).map((i) => ({
      path: ['virtual_storage', vsIndex, 'node', i, 'address'] as KeyPath,
      message: `address "${stringAt(list[i], 'address') ?? ''}" already serves another storage of this virtual storage`,
    }));
    return [...named, ...addressed];
  });
}

function replicationFactors(raw: RawTable): RawProblem[] {
  return tablesAt(raw, 'virtual_storage').flatMap((vs, index) => {
    const factor = integerAt(vs, 'default_replication_factor');
    const nodeCount = tablesAt(vs, 'node').length;
    if (factor === undefined || nodeCount === 0 || factor <= nodeCount) return [];
    return [
      {
        path: ['virtual_storage', index, 'default_replication_factor'],
        message: `${factor} is more than the ${nodeCount} storage(s) of virtual storage "${stringAt(vs, 'name') ?? ''}"`,
      },
    ];
  });
}

function raftMembers(raw: RawTable): RawProblem[] {
  const raft = tableAt(raw, 'raft');
  if (raft === undefined || !Array.isArray(raft['peers'])) return [];
  const peers = tablesAt(raft, 'peers');
  const problems: RawProblem[] = [
    ...duplicates(peers.map((p) => integerAt(p, 'id'))).map((i) => ({
      path: ['raft', 'peers', i, 'id'] as KeyPath,
      message: `duplicate peer id ${integerAt(peers[i], 'id') ?? ''}`,
    })),
    ...duplicates(peers.map((p) => stringAt(p, 'address'))).map((i) => ({
      path: ['raft', 'peers', i, 'address'] as KeyPath,
      message: `address "${stringAt(peers[i], 'address') ?? ''}" is already another peer's`,
    })),
  ];
  const self = integerAt(raft, 'node_id');
  if (self !== undefined && peers.length > 0 && !peers.some((p) => integerAt(p, 'id') === self)) {
    problems.push({ path: ['raft', 'node_id'], message: `${self} is not among raft.peers` });
  }
  return problems;
}

function raftTicks(raw: RawTable): RawProblem[] {
  const raft = tableAt(raw, 'raft');
  if (raft === undefined) return [];
  const election = orDefault(raft, 'election_ticks', integerAt, DEFAULTS.raft.electionTicks);
  const heartbeat = orDefault(raft, 'heartbeat_ticks', integerAt, DEFAULTS.raft.heartbeatTicks);
  if (election === undefined || heartbeat === undefined || election > heartbeat) return [];
  return [{ path: ['raft', 'election_ticks'], message: `must exceed heartbeat_ticks (${heartbeat})` }];
}

// A probe that may outlive its interval would make the next round wait on it.
function probeTimeout(raw: RawTable): RawProblem[] {
  const failover = tableAt(raw, 'failover');
  const timeoutMs = durationAt(failover, 'probe_timeout');
  const intervalMs = orDefault(failover, 'monitor_interval', durationAt, DEFAULTS.failover.monitorIntervalMs);
  if (timeoutMs === undefined || intervalMs === undefined || timeoutMs <= intervalMs) return [];
  return [{ path: ['failover', 'probe_timeout'], message: `must not exceed monitor_interval (${formatDurationMs(intervalMs)})` }];
}

const THRESHOLD_KEYS = ['read_error_threshold_count', 'write_error_threshold_count', 'error_threshold_window'] as const;

// Upstream's rule: error tracking is off with all three unset (or 0), and refused half set.
function errorThresholds(raw: RawTable): RawProblem[] {
  const failover = tableAt(raw, 'failover');
  const values = THRESHOLD_KEYS.map((key) =>
    orDefault(failover, key, key === 'error_threshold_window' ? durationAt : integerAt, 0),
  );
  if (values.some((v) => v === undefined)) return [];
  const set = values.map((v) => v !== undefined && v > 0);
  if (set.every((s) => s) || set.every((s) => !s)) return [];
  return THRESHOLD_KEYS.filter((_, i) => set[i] !== true).map((key) => ({
    path: ['failover', key],
    message: `error tracking needs all of ${THRESHOLD_KEYS.join(', ')} set above zero`,
  }));
}

function backoff(raw: RawTable): RawProblem[] {
  const replication = tableAt(raw, 'replication');
  const baseMs = orDefault(replication, 'retry_backoff_base', durationAt, DEFAULTS.replication.retryBackoffBaseMs);
  const maxMs = orDefault(replication, 'retry_backoff_max', durationAt, DEFAULTS.replication.retryBackoffMaxMs);
  if (baseMs === undefined || maxMs === undefined || baseMs <= maxMs) return [];
  return [{ path: ['replication', 'retry_backoff_base'], message: `must not exceed retry_backoff_max (${formatDurationMs(maxMs)})` }];
}

// The client waits for late secondaries at most this long, and DESIGN §10 promises no longer than the vote timeout.
function secondaryTimeout(raw: RawTable): RawProblem[] {
  const transactions = tableAt(raw, 'transactions');
  const secondaryMs = orDefault(transactions, 'secondary_timeout', durationAt, DEFAULTS.transactions.secondaryTimeoutMs);
  const voteMs = orDefault(transactions, 'vote_timeout', durationAt, DEFAULTS.transactions.voteTimeoutMs);
  if (secondaryMs === undefined || voteMs === undefined || secondaryMs <= voteMs) return [];
  return [{ path: ['transactions', 'secondary_timeout'], message: `must not exceed vote_timeout (${formatDurationMs(voteMs)})` }];
}

/** The default when the key is absent; undefined when it is present but invalid (the schema reports that). */
function orDefault(
  table: RawTable | undefined,
  key: string,
  read: (table: RawTable | undefined, key: string) => number | undefined,
  fallback: number,
): number | undefined {
  return has(table, key) ? read(table, key) : fallback;
}

function durationAt(table: RawTable | undefined, key: string): number | undefined {
  const text = stringAt(table, key);
  if (text === undefined) return undefined;
  const parsed = parseDurationMs(text);
  return parsed.ok ? parsed.ms : undefined;
}

/** Indexes of entries equal to an earlier one (undefined entries never count). */
function duplicates<T>(values: ReadonlyArray<T | undefined>): number[] {
  const seen = new Set<T>();
  const found: number[] = [];
  values.forEach((value, index) => {
    if (value === undefined) return;
    if (seen.has(value)) found.push(index);
    seen.add(value);
  });
  return found;
}

const CHECKS: readonly Check[] = [
  listeners,
  virtualStorageNames,
  nodes,
  replicationFactors,
  raftMembers,
  raftTicks,
  probeTimeout,
  errorThresholds,
  backoff,
  secondaryTimeout,
];

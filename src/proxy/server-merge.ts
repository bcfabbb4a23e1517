// How the router answers server-scoped calls from its nodes' answers. Pure:
// the node calls happen in server-scoped.ts.
import type { NodeTarget } from './route.js';

export interface StorageStatus {
  storage_name: string;
  [field: string]: unknown;
}

export interface ServerInfo {
  server_version: string;
  git_version: string;
  storage_statuses: StorageStatus[];
}

export interface DiskStatistics {
  storage_statuses: StorageStatus[];
}

export interface FailedCheck {
  name: string;
  error_message: string;
}

/** One node's answer, or why there is none. */
export type NodeAnswer<T> = { node: NodeTarget; ok: true; value: T } | { node: NodeTarget; ok: false; error: string };

/**
 * Statuses of the storages the node is configured with, each under its
 * virtual storage name; a node without a mapping reports under its own names.
 */
export function mapStorages(node: NodeTarget, statuses: readonly StorageStatus[]): StorageStatus[] {
  if (node.storages === undefined) return [...statuses];
  const mapped: StorageStatus[] = [];
  for (const { storage, virtualStorage } of node.storages) {
    const status = statuses.find((s) => s.storage_name === storage);
    if (status !== undefined) mapped.push({ ...status, storage_name: virtualStorage });
  }
  return mapped;
}

// A node that did not answer still shows its storages, as neither readable
// nor writeable, so an operator sees what is missing.
export function mergeServerInfo(serverVersion: string, answers: ReadonlyArray<NodeAnswer<ServerInfo>>): ServerInfo {
  const merged: ServerInfo = { server_version: serverVersion, git_version: '', storage_statuses: [] };
  for (const answer of answers) {
    if (answer.ok) {
      if (merged.git_version === '') merged.git_version = answer.value.git_version;
      merged.storage_statuses.push(...mapStorages(answer.node, answer.value.storage_statuses));
    } else {
      for (const { virtualStorage } of answer.node.storages ?? []) {
        merged.storage_statuses.push({ storage_name: virtualStorage, readable: false, writeable: false });
      }
    }
  }
  return merged;
}

export function mergeDiskStatistics(answers: ReadonlyArray<NodeAnswer<DiskStatistics>>): DiskStatistics {
  const storage_statuses: StorageStatus[] = [];
  for (const answer of answers) {
    if (answer.ok) storage_statuses.push(...mapStorages(answer.node, answer.value.storage_statuses));
  }
  return { storage_statuses };
}

export interface Readiness {
  ok_response?: Record<string, never> | null;
  failure_response?: { failed_checks: FailedCheck[] } | null;
}

/** Ready when every node is; otherwise every failed check, named after its node. */
export function mergeReadiness(answers: ReadonlyArray<NodeAnswer<Readiness>>): Readiness {
  const failed: FailedCheck[] = [];
  for (const answer of answers) {
    if (!answer.ok) failed.push({ name: `${answer.node.address}: reachable`, error_message: answer.error });
    else {
      for (const check of answer.value.failure_response?.failed_checks ?? []) {
        failed.push({ name: `${answer.node.address}: ${check.name}`, error_message: check.error_message });
      }
    }
  }
  return failed.length === 0 ? { ok_response: {} } : { failure_response: { failed_checks: failed } };
}

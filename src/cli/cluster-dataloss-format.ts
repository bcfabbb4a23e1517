// Upstream Praefect's `dataloss` and `metadata` output, from the admin API's answers.
import type { DatalossReplica, DatalossResponse, RepositoryMetadataResponse } from '../admin/index.js';

/**
 * Per virtual storage, the listed repositories with their availability, the
 * primary, and the in-sync and outdated storages, as upstream prints them.
 */
export function formatDataloss(response: DatalossResponse, partiallyUnavailable: boolean): string {
  const lines: string[] = [];
  for (const virtualStorage of response.virtual_storages) {
    lines.push(`Virtual storage: ${virtualStorage}`);
    const repositories = response.repositories.filter((r) => r.virtual_storage === virtualStorage);
    if (repositories.length === 0) {
      lines.push(partiallyUnavailable ? '  All repositories are fully available on all assigned storages!' : '  All repositories are available!');
      continue;
    }
    lines.push('  Repositories:');
    for (const repository of repositories) {
      lines.push(`    ${repository.relative_path}${repository.availability === 'writable' ? '' : ` (${repository.availability})`}:`);
      lines.push(`      Primary: ${repository.primary === '' ? 'No Primary' : repository.primary}`);
      const inSync = repository.replicas.filter((r) => r.behind_by === 0);
      const outdated = repository.replicas.filter((r) => r.behind_by > 0);
      if (inSync.length > 0) lines.push('      In-Sync Storages:', ...inSync.map((r) => `        ${[r.storage, ...qualifiers(r)].join(', ')}`));
      if (outdated.length > 0) {
        lines.push('      Outdated Storages:', ...outdated.map((r) => `        ${[`${r.storage} is behind by ${r.behind_by} change${r.behind_by === 1 ? '' : 's'} or less`, ...qualifiers(r)].join(', ')}`));
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

function qualifiers(replica: DatalossReplica): string[] {
  return [...(replica.assigned ? ['assigned host'] : []), ...(replica.healthy ? [] : ['unhealthy'])];
}

export function formatMetadata(m: RepositoryMetadataResponse): string {
  const lines = [
    `Repository ID: ${m.repository_id}`,
    `Virtual Storage: ${JSON.stringify(m.virtual_storage)}`,
    `Relative Path: ${JSON.stringify(m.relative_path)}`,
    `Replica Path: ${JSON.stringify(m.replica_path)}`,
    `Primary: ${JSON.stringify(m.primary)}`,
    `Generation: ${m.generation}`,
    'Replicas:',
  ];
  for (const r of m.replicas) {
    const generation = r.generation < 0 ? 'replica not yet created' : r.generation === m.generation ? `${r.generation}, fully up to date` : `${r.generation}, behind by ${m.generation - r.generation} changes`;
    lines.push(
      `- Storage: ${JSON.stringify(r.storage)}`,
      `  Assigned: ${r.assigned}`,
      `  Generation: ${generation}`,
      `  Healthy: ${r.healthy}`,
      `  Valid Primary: ${r.healthy && r.generation === m.generation && r.generation >= 0 && (r.assigned || m.replicas.every((x) => !x.assigned))}`,
    );
  }
  if (m.write_intents > 0) lines.push(`Pending write intents: ${m.write_intents}`);
  return `${lines.join('\n')}\n`;
}

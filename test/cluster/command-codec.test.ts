import { pack } from 'msgpackr';
import t from 'tap';
import type { Test } from 'tap';
import { COMMAND_VERSION, decodeCommand, encodeCommand, type ClusterCommand } from '../../src/cluster/index.js';

const header = { router: 'praefect-1', stampMs: 1_700_000_000_000 };

const examples: ClusterCommand[] = [
  { ...header, type: 'health-update', reports: [{ virtualStorage: 'default', storage: 'gitaly-1', healthy: true }] },
  { ...header, type: 'liveness-refresh' },
  { ...header, type: 'forget-router', target: 'praefect-9' },
  { ...header, type: 'set-settings', activityWindowMs: 10_000 },
  {
    ...header,
    type: 'create-repository',
    repositoryId: 7,
    virtualStorage: 'default',
    relativePath: '@hashed/ab/cd/abcd.git',
    replicaPath: '@cluster/repositories/ab/cd/7',
    primary: 'gitaly-1',
    assigned: ['gitaly-1', 'gitaly-2'],
    updatedSecondaries: ['gitaly-2'],
  },
  { ...header, type: 'delete-repository', repositoryId: 7 },
  { ...header, type: 'elect-primary', repositoryId: 7, expectedPrimary: null, storageOrder: ['gitaly-1', 'gitaly-2'] },
  { ...header, type: 'bump-generation', repositoryId: 7, primary: 'gitaly-1', generation: 3, intentId: 'w-1', updatedSecondaries: [] },
  { ...header, type: 'bump-generation', repositoryId: 7, primary: 'gitaly-1', generation: 3, intentId: null, updatedSecondaries: ['gitaly-2'] },
  { ...header, type: 'set-replica-generation', repositoryId: 7, storage: 'gitaly-2', generation: 3, expectedGeneration: -1 },
  { ...header, type: 'set-replica-generation', repositoryId: 7, storage: 'gitaly-2', generation: 3, expectedGeneration: null },
  { ...header, type: 'record-write-intent', repositoryId: 7, intentId: 'w-1', primary: 'gitaly-1', generation: 3 },
  { ...header, type: 'resolve-write-intent', repositoryId: 7, intentId: 'w-1' },
  { ...header, type: 'set-assignments', repositoryId: 7, assigned: [] },
  { ...header, type: 'set-replication-factor', repositoryId: 7, replicationFactor: 2, storageOrder: ['gitaly-1', 'gitaly-2', 'gitaly-3'] },
  { ...header, type: 'accept-dataloss', repositoryId: 7, storage: 'gitaly-2' },
];

t.test('every command type round-trips through its encoding', async (t) => {
  t.equal(new Set(examples.map((c) => c.type)).size, 14, 'all 14 command types are covered');
  for (const command of examples) t.strictSame(decodeCommand(encodeCommand(command)), command, command.type);
});

/** Decodes a raw map, expecting a CommandDecodeError naming `field`. */
function refuses(t: Test, raw: Record<string, unknown>, field: string, detail: RegExp): void {
  t.throws(() => decodeCommand(pack(raw)), { code: 'CLUSTER_BAD_COMMAND', field, message: detail }, `${field}: ${detail}`);
}

const create = examples[4]!;
const withV = (command: ClusterCommand, patch: Record<string, unknown> = {}) => ({ v: COMMAND_VERSION, ...command, ...patch });

t.test('decoding names the offending field precisely', async (t) => {
  t.throws(() => decodeCommand(new Uint8Array([0x81])), { code: 'CLUSTER_BAD_COMMAND', field: 'payload', message: /not msgpack/ });
  t.throws(() => decodeCommand(pack([1, 2])), { code: 'CLUSTER_BAD_COMMAND', field: 'payload', message: /expected a map, got an array/ });
  refuses(t, { ...withV(create), v: 2 } as Record<string, unknown>, 'v', /unsupported command version the number 2/);
  refuses(t, withV(create, { type: 'rename-repository' }), 'type', /unknown command type "rename-repository"/);
  refuses(t, withV(create, { repositoryId: '7' }), 'create-repository.repositoryId', /expected an integer, got "7"/);
  refuses(t, withV(create, { repositoryId: 0 }), 'create-repository.repositoryId', /is 0, expected 1/);
  refuses(t, withV(create, { assigned: ['gitaly-1', 3] }), 'create-repository.assigned[1]', /expected a non-empty string, got the number 3/);
  refuses(t, withV(create, { assigned: ['gitaly-1', 'gitaly-1'] }), 'create-repository.assigned', /lists "gitaly-1" twice/);
  refuses(t, withV(create, { primary: 'gitaly-3' }), 'create-repository.primary', /not among the assigned storages/);
  refuses(t, withV(create, { updatedSecondaries: ['gitaly-1'] }), 'create-repository.updatedSecondaries', /lists the primary/);
  refuses(t, withV(create, { relativePath: '../etc/passwd' }), 'create-repository.relativePath', /"\.\." segment/);
  refuses(t, withV(create, { relativePath: '/abs.git' }), 'create-repository.relativePath', /absolute/);
  refuses(t, withV(create, { relativePath: 'a\0b' }), 'create-repository.relativePath', /NUL/);
  refuses(t, withV(create, { router: '' }), 'create-repository.router', /non-empty string/);
  refuses(t, withV(create, { stampMs: 1.5 }), 'create-repository.stampMs', /expected an integer/);
  refuses(t, withV(create, { extra: 1 }), 'create-repository.extra', /is not a field of this command/);
  refuses(t, withV(examples[0]!, { reports: [{ virtualStorage: 'default', storage: 'g', healthy: 'yes' }] }), 'health-update.reports[0].healthy', /expected a boolean/);
  refuses(t, withV(examples[0]!, { reports: [1] }), 'health-update.reports[0]', /expected a map/);
  refuses(t, withV(examples[6]!, { expectedPrimary: 5 }), 'elect-primary.expectedPrimary', /expected a non-empty string/);
  refuses(t, withV(examples[9]!, { expectedGeneration: -2 }), 'set-replica-generation.expectedGeneration', /is -2, expected -1/);
  refuses(t, withV(examples[14]!, { replicationFactor: 0 }), 'set-replication-factor.replicationFactor', /is 0, expected 1 to 64/);
  refuses(t, withV(examples[3]!, { activityWindowMs: 5 }), 'set-settings.activityWindowMs', /is 5, expected 100/);
  const { intentId: _omitted, ...withoutIntent } = withV(examples[7]!) as Record<string, unknown>;
  refuses(t, withoutIntent, 'bump-generation.intentId', /expected a non-empty string, got undefined/);
});

t.test('encoding refuses what decoding would refuse, at the proposer', async (t) => {
  t.throws(() => encodeCommand({ ...header, type: 'delete-repository', repositoryId: -1 }), { code: 'CLUSTER_BAD_COMMAND', field: 'delete-repository.repositoryId' });
});

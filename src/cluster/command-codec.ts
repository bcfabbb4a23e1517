import { Packr } from 'msgpackr';
import type { ClusterCommand, CommandType } from './commands.js';
import { FieldReader, LIMITS, describe, isRecord } from './command-fields.js';
import { CommandDecodeError } from './errors.js';

/**
 * Commands travel as msgpack maps `{v, type, router, stampMs, ...fields}`.
 * `v` is the command format version: a change of meaning gets a new version,
 * never a silent reinterpretation, because every replica must apply the same
 * bytes the same way.
 */
export const COMMAND_VERSION = 1;

const packr = new Packr({ useRecords: false });

type FieldsOf<T extends CommandType> = Omit<Extract<ClusterCommand, { type: T }>, 'type' | 'router' | 'stampMs'>;
type BodyReader<T extends CommandType> = (r: FieldReader) => FieldsOf<T>;

const HEADER_FIELDS = ['v', 'type', 'router', 'stampMs'];

const BODY_READERS: { readonly [T in CommandType]: { fields: readonly string[]; read: BodyReader<T> } } = {
  'health-update': { fields: ['reports'], read: (r) => ({ reports: readReports(r) }) },
  'liveness-refresh': { fields: [], read: () => ({}) },
  'forget-router': { fields: ['target'], read: (r) => ({ target: r.name('target') }) },
  'set-settings': { fields: ['activityWindowMs'], read: (r) => ({ activityWindowMs: r.integer('activityWindowMs', 100, 86_400_000) }) },
  'create-repository': {
    fields: ['repositoryId', 'virtualStorage', 'relativePath', 'replicaPath', 'primary', 'assigned', 'updatedSecondaries'],
    read: readCreate,
  },
  'delete-repository': { fields: ['repositoryId'], read: (r) => ({ repositoryId: repositoryId(r) }) },
  'elect-primary': {
    fields: ['repositoryId', 'expectedPrimary', 'storageOrder'],
    read: (r) => ({ repositoryId: repositoryId(r), expectedPrimary: r.nullableName('expectedPrimary'), storageOrder: r.names('storageOrder') }),
  },
  'bump-generation': { fields: ['repositoryId', 'primary', 'generation', 'intentId', 'updatedSecondaries'], read: readBump },
  'set-replica-generation': {
    fields: ['repositoryId', 'storage', 'generation', 'expectedGeneration'],
    read: (r) => ({
      repositoryId: repositoryId(r),
      storage: r.name('storage'),
      generation: r.integer('generation', 0),
      expectedGeneration: r.nullableInteger('expectedGeneration', -1),
    }),
  },
  'record-write-intent': {
    fields: ['repositoryId', 'intentId', 'primary', 'generation'],
    read: (r) => ({ repositoryId: repositoryId(r), intentId: intentId(r), primary: r.name('primary'), generation: r.integer('generation', 0) }),
  },
  'resolve-write-intent': { fields: ['repositoryId', 'intentId'], read: (r) => ({ repositoryId: repositoryId(r), intentId: intentId(r) }) },
  'discard-write-intent': { fields: ['repositoryId', 'intentId'], read: (r) => ({ repositoryId: repositoryId(r), intentId: intentId(r) }) },
  'set-assignments': { fields: ['repositoryId', 'assigned'], read: (r) => ({ repositoryId: repositoryId(r), assigned: r.names('assigned') }) },
  'set-replication-factor': {
    fields: ['repositoryId', 'replicationFactor', 'storageOrder'],
    read: (r) => ({
      repositoryId: repositoryId(r),
      replicationFactor: r.integer('replicationFactor', 1, LIMITS.storagesPerList),
      storageOrder: r.names('storageOrder', { minLength: 1 }),
    }),
  },
  'accept-dataloss': { fields: ['repositoryId', 'storage'], read: (r) => ({ repositoryId: repositoryId(r), storage: r.name('storage') }) },
};

/** Encodes a command, refusing one that would not decode: a bad proposal fails at its proposer, not after a Raft round. */
export function encodeCommand(command: ClusterCommand): Uint8Array {
  const bytes = packr.pack({ v: COMMAND_VERSION, ...command });
  decodeCommand(bytes);
  return bytes;
}

/** Decodes and validates; throws CommandDecodeError naming the offending field. */
export function decodeCommand(payload: Uint8Array): ClusterCommand {
  let value: unknown;
  try {
    value = packr.unpack(payload);
  } catch (err) {
    throw new CommandDecodeError('payload', `not msgpack (${String(err)})`);
  }
  if (!isRecord(value)) throw new CommandDecodeError('payload', `expected a map, got ${describe(value)}`);
  if (value.v !== COMMAND_VERSION) throw new CommandDecodeError('v', `unsupported command version ${describe(value.v)} (this build reads ${COMMAND_VERSION})`);
  const type = value.type;
  if (typeof type !== 'string' || !Object.hasOwn(BODY_READERS, type)) throw new CommandDecodeError('type', `unknown command type ${describe(type)}`);
  return readCommand(type as CommandType, value);
}

function readCommand<T extends CommandType>(type: T, record: Record<string, unknown>): ClusterCommand {
  const reader = new FieldReader(record, type);
  const body = BODY_READERS[type] as { fields: readonly string[]; read: BodyReader<T> };
  const unknown = Object.keys(record).find((key) => !HEADER_FIELDS.includes(key) && !body.fields.includes(key));
  if (unknown !== undefined) reader.fail(unknown, 'is not a field of this command');
  const header = { router: reader.name('router'), stampMs: reader.integer('stampMs', 0) };
  return { type, ...header, ...body.read(reader) } as ClusterCommand;
}

function repositoryId(r: FieldReader): number {
  return r.integer('repositoryId', 1);
}

function intentId(r: FieldReader): string {
  return r.text('intentId', LIMITS.intentIdChars);
}

function readReports(r: FieldReader): FieldsOf<'health-update'>['reports'] {
  return r.list('reports', LIMITS.reportsPerUpdate).map((item, i) => {
    const report = r.nested(item, `reports[${i}]`);
    return { virtualStorage: report.name('virtualStorage'), storage: report.name('storage'), healthy: report.boolean('healthy') };
  });
}

function readCreate(r: FieldReader): FieldsOf<'create-repository'> {
  const fields = {
    repositoryId: repositoryId(r),
    virtualStorage: r.name('virtualStorage'),
    relativePath: r.path('relativePath'),
    replicaPath: r.path('replicaPath'),
    primary: r.name('primary'),
    assigned: r.names('assigned'),
    updatedSecondaries: r.names('updatedSecondaries'),
  };
  if (fields.assigned.length > 0 && !fields.assigned.includes(fields.primary)) r.fail('primary', `${JSON.stringify(fields.primary)} is not among the assigned storages`);
  if (fields.updatedSecondaries.includes(fields.primary)) r.fail('updatedSecondaries', 'lists the primary');
  const unassigned = fields.updatedSecondaries.find((s) => fields.assigned.length > 0 && !fields.assigned.includes(s));
  if (unassigned !== undefined) r.fail('updatedSecondaries', `${JSON.stringify(unassigned)} is not among the assigned storages`);
  return fields;
}

function readBump(r: FieldReader): FieldsOf<'bump-generation'> {
  const fields = {
    repositoryId: repositoryId(r),
    primary: r.name('primary'),
    generation: r.integer('generation', 0),
    intentId: r.nullableText('intentId', LIMITS.intentIdChars),
    updatedSecondaries: r.names('updatedSecondaries'),
  };
  if (fields.updatedSecondaries.includes(fields.primary)) r.fail('updatedSecondaries', 'lists the primary');
  return fields;
}

import fc from 'fast-check';
import t from 'tap';
import {
  decodeSnapshot,
  encodeCommand,
  encodeSnapshot,
  MemoryClusterStateMachine,
  type ClusterCommand,
  type CommandBody,
  type CommandResult,
} from '../../src/cluster/index.js';
import { checkAfterApply, dumpState, type GenerationLedger } from './harness.js';

// Random command sequences over a small universe, so commands collide often:
// after every apply the DESIGN §5 invariants must hold, and racing elections
// must yield one primary. A model of repository contents (which writes each
// replica holds), with writes in flight while other commands apply, checks
// the point of it all: every acknowledged write is on every replica of the
// latest generation (unless accept-dataloss gave it up), and once no write
// intent is outstanding those replicas hold the same data, so replicas never
// differ silently (DESIGN §6, §10). Replay with SEED=<seed>.
const ROUTERS = ['r1', 'r2', 'r3'] as const;
const STORAGES = ['g1', 'g2', 'g3', 'g4'] as const;

const router = fc.constantFrom(...ROUTERS);
const storage = fc.constantFrom(...STORAGES);
const storageSet = fc.uniqueArray(storage, { maxLength: 4 });
const repositoryId = fc.integer({ min: 1, max: 4 });
const generation = fc.integer({ min: 0, max: 5 });

const rawBody: fc.Arbitrary<CommandBody> = fc.oneof(
  fc.record({
    type: fc.constant('health-update' as const),
    reports: fc.array(fc.record({ virtualStorage: fc.constant('default'), storage, healthy: fc.boolean() }), { maxLength: 4 }),
  }),
  fc.constant({ type: 'liveness-refresh' as const }),
  fc.record({ type: fc.constant('create-repository' as const), repositoryId, primary: storage, assigned: storageSet, updatedSecondaries: storageSet }).map((c) => ({
    ...c,
    virtualStorage: 'default',
    relativePath: `repo-${c.repositoryId}.git`,
    replicaPath: `custom/${c.repositoryId}`,
    assigned: c.assigned.length > 0 && !c.assigned.includes(c.primary) ? [...c.assigned, c.primary] : c.assigned,
    updatedSecondaries: c.updatedSecondaries.filter((s) => s !== c.primary && (c.assigned.length === 0 || c.assigned.includes(s))),
  })),
  fc.record({ type: fc.constant('delete-repository' as const), repositoryId }),
  fc.record({ type: fc.constant('elect-primary' as const), repositoryId, expectedPrimary: fc.option(storage, { nil: null }), storageOrder: storageSet }),
  fc.record({ type: fc.constant('bump-generation' as const), repositoryId, primary: storage, generation, intentId: fc.constant(null), updatedSecondaries: storageSet }).map((c) => ({
    ...c,
    updatedSecondaries: c.updatedSecondaries.filter((s) => s !== c.primary),
  })),
  fc.record({ type: fc.constant('set-assignments' as const), repositoryId, assigned: storageSet }),
  fc.record({ type: fc.constant('set-replication-factor' as const), repositoryId, replicationFactor: fc.integer({ min: 1, max: 4 }), storageOrder: fc.shuffledSubarray([...STORAGES], { minLength: 1 }) }),
  fc.record({ type: fc.constant('accept-dataloss' as const), repositoryId, storage }),
  // No raw resolve-write-intent: resolving an intent whose write may still land is outside the protocol
  // (the leader waits until it cannot); sweep-intents below resolves as the leader does.
);

/** Steps: raw commands, plus realistic ones that read the state first, as a router does. */
type Step =
  | { kind: 'raw'; router: string; body: CommandBody; dtMs: number }
  | { kind: 'elect-race'; repositoryId: number; orders: [string[], string[]] }
  | { kind: 'begin-write'; repositoryId: number; secondaries: string[] }
  | { kind: 'land-write'; pick: number }
  | { kind: 'finish-write'; pick: number; bump: boolean }
  | { kind: 'sweep-intents' }
  | { kind: 'replicate'; repositoryId: number; target: string; source: string; fromPrimary: boolean }
  | { kind: 'tick' }
  | { kind: 'storage-health'; storage: string; healthy: boolean };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('raw' as const), router, body: rawBody, dtMs: fc.integer({ min: 0, max: 1_500 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('elect-race' as const), repositoryId, orders: fc.tuple(fc.shuffledSubarray([...STORAGES]), fc.shuffledSubarray([...STORAGES])) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('begin-write' as const), repositoryId, secondaries: fc.oneof(storageSet, fc.constant<string[]>([...STORAGES])) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('land-write' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('finish-write' as const), pick: fc.nat(), bump: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'sweep-intents' as const }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('replicate' as const), repositoryId, target: storage, source: storage, fromPrimary: fc.boolean() }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'tick' as const }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('storage-health' as const), storage, healthy: fc.boolean() }) },
);

interface InFlightWrite {
  readonly repositoryId: number;
  readonly intentId: string;
  readonly primary: string;
  readonly generation: number;
  readonly secondaries: readonly string[];
  landed: boolean;
}

class Run {
  readonly machine = new MemoryClusterStateMachine();
  private readonly ledger: GenerationLedger = new Map();
  private index = 0;
  nowMs = 1_700_000_000_000;
  readonly results: unknown[] = [];
  /** Per repository, per storage holding a replica: the writes it holds, in order. */
  private readonly content = new Map<number, Map<string, string>>();
  /** Per repository: writes a bump acknowledged, which must survive on the latest generation. */
  private readonly acknowledged = new Map<number, Set<string>>();
  private readonly inFlight: InFlightWrite[] = [];
  private writes = 0;

  constructor(private readonly skewMs: Record<string, number>) {}

  async apply(router: string, body: CommandBody): Promise<CommandResult> {
    const stampMs = this.nowMs + (this.skewMs[router] ?? 0);
    const payload = encodeCommand({ ...body, router, stampMs } as ClusterCommand);
    const before = this.machine.view.clusterTimeMs();
    const [result] = await this.machine.apply([{ index: ++this.index, term: 1, payload }]);
    checkAfterApply(this.machine.state, this.ledger);
    if (this.machine.view.clusterTimeMs() < before) throw new Error('cluster time went back');
    if ((result as CommandResult).status === 'invalid') throw new Error(`a well-formed command was refused: ${JSON.stringify(result)}`);
    this.results.push(result);
    this.trackRepository(body, result as CommandResult);
    this.checkElection(body, result as CommandResult);
    return result as CommandResult;
  }

  /** A new primary must be one DESIGN §8 allows: healthy by consensus, on the latest generation, assigned (checked here independently of election.ts). */
  private checkElection(body: CommandBody, result: CommandResult): void {
    if (body.type !== 'elect-primary' || result.status !== 'ok' || !('primary' in result) || !result.changed) return;
    const repo = this.machine.view.repository(body.repositoryId)!;
    const latest = repo.generations[result.primary] === repo.latestGeneration;
    const assigned = repo.assigned.length === 0 || repo.assigned.includes(result.primary);
    const healthy = this.machine.view.isHealthy(repo.virtualStorage, result.primary);
    if (!latest || !assigned || !healthy) throw new Error(`elected ${result.primary}: latest ${latest}, assigned ${assigned}, healthy ${healthy}`);
  }

  private trackRepository(body: CommandBody, result: CommandResult): void {
    if (result.status !== 'ok') return;
    if (body.type === 'create-repository') {
      this.content.set(body.repositoryId, new Map([body.primary, ...body.updatedSecondaries].map((s) => [s, ''])));
      this.acknowledged.set(body.repositoryId, new Set());
    }
    if (body.type === 'delete-repository') {
      this.content.delete(body.repositoryId);
      this.acknowledged.delete(body.repositoryId);
      this.inFlight.splice(0, this.inFlight.length, ...this.inFlight.filter((w) => w.repositoryId !== body.repositoryId));
    }
    if (body.type === 'accept-dataloss') {
      // The operator gives up what the chosen copy lacks.
      const kept = this.content.get(body.repositoryId)!.get(body.storage)!;
      const acked = this.acknowledged.get(body.repositoryId)!;
      for (const w of acked) if (!holds(kept, w)) acked.delete(w);
    }
  }

  /** Acknowledged writes are on the latest generation; with no write intent outstanding, its replicas hold the same writes. */
  checkContent(): void {
    for (const [id, held] of this.content) {
      const repo = this.machine.view.repository(id)!;
      for (const [storage, generation] of Object.entries(repo.generations)) {
        if (generation !== repo.latestGeneration) continue;
        const lost = [...this.acknowledged.get(id)!].find((w) => !holds(held.get(storage)!, w));
        if (lost !== undefined) throw new Error(`repository ${id}: acknowledged write ${lost} is missing on ${storage}, which is on the latest generation`);
      }
      if (repo.writeIntents.length > 0) continue;
      const latest = Object.entries(repo.generations).filter(([, g]) => g === repo.latestGeneration);
      const versions = new Set(latest.map(([storage]) => held.get(storage)));
      if (versions.size > 1) throw new Error(`repository ${id}: replicas on generation ${repo.latestGeneration} differ: ${JSON.stringify(latest.map(([st]) => [st, held.get(st)]))}`);
    }
  }

  async step(s: Step): Promise<void> {
    if (s.kind === 'raw') {
      this.nowMs += s.dtMs;
      await this.apply(s.router, s.body);
    } else if (s.kind === 'elect-race') await this.electRace(s);
    else if (s.kind === 'begin-write') await this.beginWrite(s);
    else if (s.kind === 'land-write') this.landWrite(s);
    else if (s.kind === 'finish-write') await this.finishWrite(s);
    else if (s.kind === 'replicate') await this.replicate(s);
    else if (s.kind === 'tick') await this.tick();
    else if (s.kind === 'sweep-intents') await this.sweepIntents();
    else for (const r of ROUTERS) await this.apply(r, { type: 'health-update', reports: [{ virtualStorage: 'default', storage: s.storage, healthy: s.healthy }] });
  }

  /** A second passes and every router refreshes, so routers stay active and health counts. */
  private async tick(): Promise<void> {
    this.nowMs += 1_000;
    for (const r of ROUTERS) await this.apply(r, { type: 'liveness-refresh' });
  }

  /** Two routers saw the same primary fail and elect at once: exactly one may change it. */
  private async electRace(s: Extract<Step, { kind: 'elect-race' }>): Promise<void> {
    const expectedPrimary = this.machine.view.repository(s.repositoryId)?.primary ?? null;
    const a = await this.apply('r1', { type: 'elect-primary', repositoryId: s.repositoryId, expectedPrimary, storageOrder: s.orders[0] });
    const b = await this.apply('r2', { type: 'elect-primary', repositoryId: s.repositoryId, expectedPrimary, storageOrder: s.orders[1] });
    const changed = [a, b].filter((r) => r.status === 'ok' && 'changed' in r && r.changed).length;
    if (changed > 1) throw new Error(`two elections with expected primary ${expectedPrimary} both changed it`);
    if (a.status === 'ok' && 'changed' in a && a.changed && b.status !== 'conflict') throw new Error('the losing election was not told of the winner');
  }

  /** A mutator as the router starts it: route, then record the intent (refused if the route went stale). */
  private async beginWrite(s: Extract<Step, { kind: 'begin-write' }>): Promise<void> {
    const route = this.machine.view.writeRoute(s.repositoryId);
    const repo = this.machine.view.repository(s.repositoryId);
    if (route?.kind !== 'primary' || repo === undefined) return;
    const intentId = `w${++this.writes}`;
    const intent = await this.apply('r2', { type: 'record-write-intent', repositoryId: s.repositoryId, intentId, primary: route.primary, generation: route.generation });
    if (intent.status !== 'ok') return;
    // Reference transactions: the secondaries on the primary's generation take the write too.
    const secondaries = s.secondaries.filter((x) => x !== route.primary && repo.generations[x] === route.generation);
    this.inFlight.push({ repositoryId: s.repositoryId, intentId, primary: route.primary, generation: route.generation, secondaries, landed: false });
  }

  /** The storages commit the write, whatever happened in Raft meanwhile. */
  private landWrite(s: Extract<Step, { kind: 'land-write' }>): void {
    const write = this.inFlight.filter((w) => !w.landed)[s.pick % Math.max(1, this.inFlight.length)];
    if (write === undefined) return;
    const held = this.content.get(write.repositoryId)!;
    for (const storage of [write.primary, ...write.secondaries]) if (held.has(storage)) held.set(storage, `${held.get(storage)},${write.intentId}`);
    write.landed = true;
  }

  /** The router bumps the generation (acknowledging the write if Raft accepts), or dies first. */
  private async finishWrite(s: Extract<Step, { kind: 'finish-write' }>): Promise<void> {
    const landed = this.inFlight.filter((w) => w.landed);
    const write = landed[s.pick % Math.max(1, landed.length)];
    if (write === undefined) return;
    this.inFlight.splice(this.inFlight.indexOf(write), 1);
    if (!s.bump) return;
    const { repositoryId, primary, generation, intentId, secondaries } = write;
    const result = await this.apply('r2', { type: 'bump-generation', repositoryId, primary, generation, intentId, updatedSecondaries: [...secondaries] });
    if (result.status === 'ok') this.acknowledged.get(repositoryId)!.add(intentId);
  }

  /** The Raft leader settles stale intents: those whose write can no longer land (its router gave up or died). */
  private async sweepIntents(): Promise<void> {
    for (const stale of this.machine.view.staleWriteIntents(0)) {
      if (this.inFlight.some((w) => w.intentId === stale.intentId)) continue;
      await this.apply('r1', { type: 'resolve-write-intent', repositoryId: stale.repositoryId, intentId: stale.intentId });
    }
  }

  private async replicate(s: Extract<Step, { kind: 'replicate' }>): Promise<void> {
    const repo = this.machine.view.repository(s.repositoryId);
    // Half the time from the primary, as the replication worker does; otherwise from anywhere.
    const from = s.fromPrimary && repo?.primary ? repo.primary : s.source;
    const source = repo?.generations[from];
    if (repo === undefined || source === undefined || from === s.target) return;
    const result = await this.apply('r3', { type: 'set-replica-generation', repositoryId: s.repositoryId, storage: s.target, generation: source, expectedGeneration: repo.generations[s.target] ?? -1 });
    // Modelled as copy and compare-and-set in one step: replication jobs for one target run one at a time.
    if (result.status === 'ok') this.content.get(s.repositoryId)!.set(s.target, this.content.get(s.repositoryId)!.get(from)!);
  }
}

function holds(content: string, write: string): boolean {
  return content.split(',').includes(write);
}

/** Every router reports all storages healthy, and repositories 1-4 exist: most steps then hit something. */
const preambleArbitrary: fc.Arbitrary<Step[]> = fc.tuple(storage, storage, storage, storage).map((primaries) => [
  ...ROUTERS.map((r): Step => ({ kind: 'raw', router: r, dtMs: 0, body: { type: 'health-update', reports: STORAGES.map((g) => ({ virtualStorage: 'default', storage: g, healthy: true })) } })),
  ...primaries.map((primary, i): Step => ({
    kind: 'raw',
    router: 'r1',
    dtMs: 0,
    body: { type: 'create-repository', repositoryId: i + 1, virtualStorage: 'default', relativePath: `repo-${i + 1}.git`, replicaPath: `custom/${i + 1}`, primary, assigned: i % 2 ? [] : [...STORAGES].slice(0, 3).concat(STORAGES.slice(0, 3).includes(primary) ? [] : [primary]), updatedSecondaries: [] },
  })),
]);

// CI runs seed 1 and the regression seeds below, so a landing does not depend
// on luck. SEED=<n> replays one seed, SEED=random runs one random seed, and
// SWEEP=<count> runs that many random seeds (each printed, so a failure
// replays with SEED=). RUNS sets the sequences per seed.
/**
 * Seeds that once failed, kept as regressions:
 * - 3 and 1839560638: a replication onto a replica already on the source's
 *   generation (here the primary) erased a write in flight on it, whose bump
 *   was then acknowledged (see sameGenerationCopy in apply-generation.ts).
 */
const REGRESSION_SEEDS: readonly number[] = [3, 1839560638];
const randomSeed = (): number => Math.floor(Math.random() * 2 ** 31);
const numRuns = Number(process.env.RUNS ?? 500);
const sweep = Number(process.env.SWEEP ?? 0);
const seeds: readonly number[] =
  sweep > 0
    ? Array.from({ length: sweep }, randomSeed)
    : process.env.SEED === 'random'
      ? [randomSeed()]
      : process.env.SEED !== undefined
        ? [Number(process.env.SEED)]
        : [1, ...REGRESSION_SEEDS];

async function checkProperty(t: { pass(message: string): void; comment(message: string): void }, seed: number): Promise<void> {
  t.comment(`seed ${seed}: replay with SEED=${seed}`);
  await fc.assert(
    fc.asyncProperty(preambleArbitrary, fc.array(step, { minLength: 20, maxLength: 80 }), fc.record({ r3: fc.constantFrom(0, 3_600_000, -3_600_000, 25_000) }), async (preamble, steps, skew) => {
      const run = new Run(skew);
      for (const s of [...preamble, ...steps]) {
        await run.step(s);
        run.checkContent();
      }
      // The same log applied elsewhere gives the same state and results; so does a snapshot of it.
      const replica = new Run(skew);
      for (const s of [...preamble, ...steps]) await replica.step(s);
      if (JSON.stringify(dumpState(replica.machine.state)) !== JSON.stringify(dumpState(run.machine.state))) throw new Error('replicas diverged');
      if (JSON.stringify(replica.results) !== JSON.stringify(run.results)) throw new Error('results diverged');
      const { state } = decodeSnapshot(encodeSnapshot(run.machine.state, 1));
      if (JSON.stringify(dumpState(state)) !== JSON.stringify(dumpState(run.machine.state))) throw new Error('snapshot round-trip differs');
    }),
    { seed, numRuns },
  );
  t.pass(`${numRuns} sequences of up to 80 steps`);
}

for (const seed of seeds) {
  t.test(`random command sequences keep the invariants (seed ${seed})`, (t) => checkProperty(t, seed));
}

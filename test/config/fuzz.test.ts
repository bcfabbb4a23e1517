// Seeded fuzz: random TOML-ish text and random documents may only ever give a
// valid config or a ConfigError; never another exception, never a secret in a
// message. Replay a failure with CONFIG_FUZZ_SEED=<seed>.
import t, { type Test } from 'tap';
import { ConfigError, parseConfig, parseConfigToml, type PraefectConfig } from '../../src/config/index.js';
import { FULL_TOML, MINIMAL_TOML } from './fixtures/documents.js';
import { mutateText, PLANTED_SECRET, randomDocument, seededRng } from './fixtures/fuzz-inputs.js';

const ITERATIONS = 2_000;
const seed = process.env['CONFIG_FUZZ_SEED'] !== undefined ? Number(process.env['CONFIG_FUZZ_SEED']) : Date.now() % 2 ** 31;
t.comment(`config fuzz seed: ${seed} (replay with CONFIG_FUZZ_SEED=${seed})`);

type Outcome = { config: PraefectConfig } | { error: ConfigError };

function outcomeOf(run: () => PraefectConfig): Outcome {
  try {
    return { config: run() };
  } catch (error) {
    if (error instanceof ConfigError) return { error };
    throw error;
  }
}

/** What must hold of any config that was accepted. */
function invariantViolations(c: PraefectConfig): string[] {
  const problems: string[] = [];
  if (c.listenAddr === undefined && c.tlsListenAddr === undefined) problems.push('no listener');
  if (c.failover.monitorIntervalMs < 100) problems.push('monitor interval below 100ms');
  if (c.failover.probeTimeoutMs > c.failover.monitorIntervalMs) problems.push('probe timeout above interval');
  if (!c.raft.peers.some((p) => p.id === c.raft.nodeId)) problems.push('node_id not among peers');
  if (new Set(c.raft.peers.map((p) => p.id)).size !== c.raft.peers.length) problems.push('duplicate peer ids');
  if (c.raft.electionTicks <= c.raft.heartbeatTicks) problems.push('election ticks not above heartbeat ticks');
  for (const vs of c.virtualStorages) {
    if (vs.nodes.length === 0) problems.push(`${vs.name}: no nodes`);
    if (vs.defaultReplicationFactor > vs.nodes.length) problems.push(`${vs.name}: replication factor above node count`);
    if (new Set(vs.nodes.map((n) => n.storage)).size !== vs.nodes.length) problems.push(`${vs.name}: duplicate storages`);
  }
  return problems;
}

function check(t: Test, label: string, run: () => PraefectConfig): 'config' | 'error' {
  const outcome = outcomeOf(run);
  if ('config' in outcome) {
    const violations = invariantViolations(outcome.config);
    if (violations.length > 0) t.fail(`${label}: accepted a config that breaks ${violations.join(', ')} (seed ${seed})`);
    return 'config';
  }
  const { problems, message } = outcome.error;
  if (problems.length === 0) t.fail(`${label}: ConfigError without problems (seed ${seed})`);
  if (message.includes(PLANTED_SECRET)) t.fail(`${label}: a secret reached the message (seed ${seed}): ${message}`);
  return 'error';
}

t.test('mutated TOML text', async (t) => {
  const rng = seededRng(seed);
  const tally = { config: 0, error: 0 };
  for (let i = 0; i < ITERATIONS; i++) {
    const text = mutateText(rng, rng() < 0.5 ? FULL_TOML : MINIMAL_TOML);
    tally[check(t, `text #${i}`, () => parseConfigToml(text))]++;
  }
  t.comment(`text: ${tally.config} accepted, ${tally.error} refused`);
  t.ok(tally.error > 0, 'some inputs were refused');
});

t.test('random documents with planted secrets', async (t) => {
  const rng = seededRng(seed ^ 0x5bd1e995);
  const tally = { config: 0, error: 0 };
  for (let i = 0; i < ITERATIONS; i++) {
    const doc = randomDocument(rng);
    tally[check(t, `document #${i}`, () => parseConfig(doc))]++;
  }
  t.comment(`documents: ${tally.config} accepted, ${tally.error} refused`);
  t.ok(tally.config > 0 && tally.error > 0, 'both outcomes occur');
});

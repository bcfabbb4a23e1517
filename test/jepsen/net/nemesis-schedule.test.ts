// The schedule generator: deterministic for a seed, well-formed for every
// nemesis, and its network faults executable on a backend.
import t from 'tap';
import {
  applyNetworkEvent,
  formatLink,
  InvalidFaultError,
  isNetworkFault,
  NEMESIS_NAMES,
  nemesisSchedule,
  Network,
  UnsupportedFaultError,
  type NemesisEvent,
} from '../../../jepsen/net/index.js';

const seed = Number(process.env.SEED ?? 20261122);
t.comment(`SEED=${seed}`);
const five = ['n1', 'n2', 'n3', 'n4', 'n5'];

t.test('the same seed gives the same schedule; another seed another', async (t) => {
  for (const nemesis of NEMESIS_NAMES) {
    const options = { nemesis, nodes: five, seed, intervalMs: 1000, timeLimitMs: 60_000 };
    t.same(nemesisSchedule(options), nemesisSchedule(options), `${nemesis} replays`);
  }
  const a = nemesisSchedule({ nemesis: 'mixed', nodes: five, seed, intervalMs: 1000, timeLimitMs: 60_000 });
  const b = nemesisSchedule({ nemesis: 'mixed', nodes: five, seed: seed + 1, intervalMs: 1000, timeLimitMs: 60_000 });
  t.not(JSON.stringify(a), JSON.stringify(b));
});

t.test('every schedule alternates start/stop, in time order, within the limit', async (t) => {
  for (const nemesis of NEMESIS_NAMES) {
    const timeLimitMs = 30_000;
    const events = nemesisSchedule({ nemesis, nodes: five, seed, intervalMs: 700, timeLimitMs });
    t.ok(events.length >= 2, `${nemesis}: ${events.length} events`);
    let previous = 0;
    events.forEach((event, i) => {
      if (event.op !== (i % 2 === 0 ? 'start' : 'stop')) t.fail(`${nemesis}: event ${i} is ${event.op}`);
      if (event.atMs < previous || event.atMs > timeLimitMs) t.fail(`${nemesis}: event ${i} at ${event.atMs}`);
      previous = event.atMs;
      if (event.op === 'stop' && event.fault !== events[i - 1]?.fault) t.fail(`${nemesis}: stop ${i} carries another fault`);
    });
    t.equal(events.at(-1)?.op, 'stop', `${nemesis}: the last fault is stopped`);
  }
});

t.test('faults have the promised shape', async (t) => {
  const first = (nemesis: (typeof NEMESIS_NAMES)[number]) =>
    nemesisSchedule({ nemesis, nodes: five, seed, intervalMs: 1000, timeLimitMs: 10_000 })[0] as NemesisEvent;
  const halves = first('partition-halves').fault;
  t.equal(halves.kind, 'partition');
  if (halves.kind === 'partition') t.equal(halves.cuts.length, 12, '2 x 3 nodes, both directions');
  const oneWay = first('partition-one-way').fault;
  if (oneWay.kind === 'partition') t.equal(oneWay.cuts.length, 1);
  const ring = first('partition-majorities-ring').fault;
  if (ring.kind === 'partition') t.equal(ring.cuts.length, 10);
  const kill = first('kill').fault;
  t.equal(kill.kind, 'kill');
  if (kill.kind === 'kill') t.ok(kill.nodes.length >= 1 && kill.nodes.length <= 2, 'a minority is killed');
  const clock = first('clock').fault;
  if (clock.kind === 'clock') t.ok(Math.abs(clock.offsetMs) <= 10_000);
  t.same(first('partition-isolate-leader').fault, { kind: 'partition-leader', among: five });
  const mixedKinds = new Set(
    nemesisSchedule({ nemesis: 'mixed', nodes: five, seed, intervalMs: 100, timeLimitMs: 60_000 }).map((e) => e.fault.kind),
  );
  t.ok(mixedKinds.size >= 4, `mixed draws several kinds: ${[...mixedKinds].join(', ')}`);
});

t.test('bad options are refused with a typed error', async (t) => {
  t.throws(() => nemesisSchedule({ nemesis: 'partition-bridge', nodes: ['a', 'b'], seed, intervalMs: 10, timeLimitMs: 100 }), InvalidFaultError);
  t.throws(() => nemesisSchedule({ nemesis: 'kill', nodes: ['a', 'a'], seed, intervalMs: 10, timeLimitMs: 100 }), InvalidFaultError);
  t.throws(() => nemesisSchedule({ nemesis: 'kill', nodes: ['a'], seed, intervalMs: 0, timeLimitMs: 100 }), InvalidFaultError);
  t.throws(
    () => nemesisSchedule({ nemesis: 'kill', nodes: ['a'], seed, intervalMs: 1, timeLimitMs: 1_000_000, maxEvents: 100 }),
    { code: 'NET_INVALID_FAULT' },
  );
});

t.test('network events execute on a backend; process faults are refused', async (t) => {
  const network = new Network();
  for (const node of five) network.addNode(node, { host: '127.0.0.1', port: 1 });
  t.teardown(() => network.close());
  const events = nemesisSchedule({ nemesis: 'partition-isolate-leader', nodes: five, seed, intervalMs: 100, timeLimitMs: 1000 });
  const [start, stop] = events as [NemesisEvent, NemesisEvent];
  const cuts = await applyNetworkEvent(network, start, { leader: () => 'n3' });
  t.equal(cuts.length, 8);
  t.ok(network.cutLinks().every((l) => l.from === 'n3' || l.to === 'n3'), 'only the leader is cut off');
  t.equal(network.modeOf({ from: 'n3', to: 'n1' }).kind, 'blackhole');
  await applyNetworkEvent(network, stop);
  t.same(network.cutLinks(), []);
  t.same(await applyNetworkEvent(network, start, { leader: async () => undefined }), [], 'no leader, nothing cut');
  await t.rejects(applyNetworkEvent(network, start), UnsupportedFaultError, 'a leader callback is required');
  const ring = nemesisSchedule({ nemesis: 'partition-majorities-ring', nodes: five, seed, intervalMs: 100, timeLimitMs: 1000 })[0] as NemesisEvent;
  await applyNetworkEvent(network, ring);
  if (ring.fault.kind === 'partition') t.same(network.cutLinks().map(formatLink), ring.fault.cuts.map(formatLink));
  const kill = nemesisSchedule({ nemesis: 'kill', nodes: five, seed, intervalMs: 100, timeLimitMs: 1000 })[0] as NemesisEvent;
  t.notOk(isNetworkFault(kill.fault));
  await t.rejects(applyNetworkEvent(network, kill), { code: 'NET_UNSUPPORTED_FAULT' });
});

import t from 'tap';
import { LocalGroup } from '../../src/kv-demo/index.js';

// Three real processes over loopback gRPC with LevelDB (compiled code from
// dist/: `npm test` builds first). SIGKILL the leader under load; no
// acknowledged put may be lost, and the restarted member ends identical.
t.test('a 3-process group survives SIGKILL of its leader without losing acknowledged writes', async (t) => {
  const basePort = 17_000 + (process.pid % 2_000) * 3;
  const group = new LocalGroup({ size: 3, dataDir: t.testdir(), basePort, tickMs: 50, electionTicks: 10, onLog: (id, line) => process.env.DEBUG_GROUP && console.error(id, line) });
  t.teardown(() => group.stopAll());
  group.startAll();
  const first = await group.waitForLeader(30_000);
  t.ok(first.leader > 0, `leader ${first.leader} elected in term ${first.term}`);

  const acked = new Map<string, string>();
  let writing = true;
  let seq = 0;
  let ackCount = 0;
  const keys = (writerId: number) => Array.from({ length: 20 }, (_, k) => `w${writerId}-k${k}`);
  const writer = async (writerId: number, via: number) => {
    // Each writer owns its keys and writes them one at a time, so its last acknowledged value per key must survive.
    for (let n = 0; writing; n++) {
      const key = keys(writerId)[n % 20]!;
      const value = `v${seq++}`;
      try {
        await group.client(via).put(key, value, 3_000);
        acked.set(key, value);
        ackCount++;
      } catch {
        // outcome unknown or refused: not acknowledged, so no claim is made
      }
    }
  };
  const ids = [...group.members.keys()];
  const writers = ids.map((id, i) => writer(id, ids[(i + 1) % ids.length]!));
  await LocalGroup.waitFor('some acknowledged writes', 20_000, async () => ackCount >= 30);

  await group.kill(first.leader, 'SIGKILL');
  const second = await group.waitForLeader(30_000, first.leader);
  t.not(second.leader, first.leader, `node ${second.leader} took over in term ${second.term}`);
  t.ok(second.term > first.term, 'the new leader has a higher term');
  const ackedBefore = ackCount;
  await LocalGroup.waitFor('writes acknowledged after failover', 20_000, async () => ackCount >= ackedBefore + 50);

  group.start(first.leader);
  writing = false;
  await Promise.all(writers);

  const survivors = await group.client(second.leader).status();
  await LocalGroup.waitFor(`all members to apply index ${survivors.commit}`, 30_000, async () => {
    const statuses = await group.statuses();
    return statuses.size === 3 && [...statuses.values()].every((s) => s.applied >= survivors.commit);
  });

  // Per key, the last acknowledged value must be what every member holds,
  // unless a later unacknowledged put to the same key won (then it is a later value).
  for (const id of ids) {
    const client = group.client(id);
    let lost = 0;
    for (const [key, value] of acked) {
      const got = await client.get(key, 5_000, true);
      if (!got.found || Number(got.value.slice(1)) < Number(value.slice(1))) lost++;
    }
    t.equal(lost, 0, `node ${id} holds every acknowledged write (${acked.size} keys)`);
  }
  const snapshotOf = async (id: number) => {
    const values: string[] = [];
    for (const key of ids.flatMap(keys)) values.push((await group.client(id).get(key, 5_000, true)).value);
    return values;
  };
  const reference = await snapshotOf(second.leader);
  for (const id of ids) t.same(await snapshotOf(id), reference, `node ${id} state is identical to the leader's`);
});

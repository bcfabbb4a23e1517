import client from 'prom-client';
import t from 'tap';
import {
  ProposalTooLargeError,
  RaftDriver,
  registerRaftMetrics,
  TooManyPendingError,
  type AppliedCommand,
  type Message,
  type NodeId,
  type Snapshot,
  type StateMachine,
} from '../../src/raft/index.js';
import { MemoryLogStore } from '../../src/storage/index.js';

/** An in-memory state machine: each command appends its text; the result is the list length. */
class ListStateMachine implements StateMachine {
  applied = 0;
  items: string[] = [];
  appliedIndex(): number {
    return this.applied;
  }
  async apply(commands: readonly AppliedCommand[]): Promise<unknown[]> {
    return commands.map((c) => {
      if (c.index !== this.applied + 1) throw new Error(`apply ${c.index} after ${this.applied}`);
      this.applied = c.index;
      if (c.payload) this.items.push(new TextDecoder().decode(c.payload));
      return this.items.length;
    });
  }
  async snapshot(): Promise<{ index: number; data: Uint8Array }> {
    return { index: this.applied, data: new TextEncoder().encode(JSON.stringify(this.items)) };
  }
  async restore(snapshot: Snapshot): Promise<void> {
    this.items = JSON.parse(new TextDecoder().decode(snapshot.data)) as string[];
    this.applied = snapshot.meta.index;
  }
}

/** Delivers messages between drivers in the same process, asynchronously; links can be cut. */
class LoopbackNetwork {
  private readonly handlers = new Map<NodeId, (m: Message) => void>();
  readonly cut = new Set<NodeId>();
  port(id: NodeId) {
    return {
      send: (messages: readonly Message[]) => {
        for (const m of messages) {
          if (this.cut.has(m.from) || this.cut.has(m.to)) continue;
          setImmediate(() => this.handlers.get(m.to)?.(m));
        }
      },
      onMessage: (handler: (m: Message) => void) => this.handlers.set(id, handler),
      onUnreachable: () => undefined,
    };
  }
}

const bytes = (text: string) => new TextEncoder().encode(text);

async function waitFor(what: string, predicate: () => boolean, deadlineMs = 10_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function startGroup(t: { teardown(fn: () => unknown): void }, size: number, options: Partial<ConstructorParameters<typeof RaftDriver>[0]> = {}) {
  const network = new LoopbackNetwork();
  const voters = Array.from({ length: size }, (_, i) => i + 1);
  const members = voters.map((id) => {
    const stateMachine = new ListStateMachine();
    const driver = new RaftDriver({
      id,
      store: new MemoryLogStore(),
      stateMachine,
      transport: network.port(id),
      bootstrapVoters: voters,
      tickMs: 10,
      seed: id,
      ...options,
    });
    return { id, driver, stateMachine };
  });
  for (const m of members) await m.driver.start();
  t.teardown(() => Promise.all(members.map((m) => m.driver.stop())));
  await waitFor('a leader', () => members.some((m) => m.driver.status().role === 'leader'));
  const leader = members.find((m) => m.driver.status().role === 'leader')!;
  return { network, members, leader };
}

t.test('a proposal at a follower is forwarded and resolves with its apply result', async (t) => {
  const { members, leader } = await startGroup(t, 3);
  const follower = members.find((m) => m !== leader)!;
  t.equal(await follower.driver.propose(bytes('a')), 1);
  t.equal(await leader.driver.propose(bytes('b')), 2);
  await waitFor('every member to apply both', () => members.every((m) => m.stateMachine.items.length === 2));
  for (const m of members) t.same(m.stateMachine.items, ['a', 'b'], `member ${m.id} applied in order`);
});

t.test('a linearizable read at a follower sees a write acknowledged through another member', async (t) => {
  const { members, leader } = await startGroup(t, 3);
  const follower = members.find((m) => m !== leader)!;
  await leader.driver.propose(bytes('x'));
  const applied = await follower.driver.linearizableRead();
  t.ok(applied >= 1, `read point ${applied}`);
  t.same(follower.stateMachine.items, ['x'], 'the follower has applied the acknowledged write');
});

t.test('bounds refuse with typed errors instead of growing', async (t) => {
  const { leader } = await startGroup(t, 1, { maxProposalBytes: 8, maxPendingProposals: 2 });
  await t.rejects(leader.driver.propose(new Uint8Array(9)), ProposalTooLargeError);
  const inFlight = [leader.driver.propose(bytes('1')), leader.driver.propose(bytes('2'))];
  await t.rejects(leader.driver.propose(bytes('3')), TooManyPendingError);
  t.same(await Promise.all(inFlight), [1, 2], 'the proposals within the bound still commit');
});

t.test('a proposal that cannot commit times out with an unknown outcome', async (t) => {
  const { network, members, leader } = await startGroup(t, 3, { proposalTimeoutMs: 300 });
  for (const m of members) if (m !== leader) network.cut.add(m.id);
  await t.rejects(leader.driver.propose(bytes('lost?')), { code: 'RAFT_PROPOSAL_TIMEOUT' });
});

t.test('stop rejects what is pending and refuses new work', async (t) => {
  const { network, members, leader } = await startGroup(t, 3, { proposalTimeoutMs: 60_000 });
  for (const m of members) if (m !== leader) network.cut.add(m.id);
  const pending = leader.driver.propose(bytes('never'));
  await leader.driver.stop();
  await t.rejects(pending, { code: 'RAFT_STOPPED' });
  await t.rejects(leader.driver.propose(bytes('after')), { code: 'RAFT_STOPPED' });
});

t.test('snapshots compact the log and a restarted member restores from them', async (t) => {
  const store = new MemoryLogStore();
  const stateMachine = new ListStateMachine();
  const network = new LoopbackNetwork();
  const options = { id: 1, store, stateMachine, transport: network.port(1), bootstrapVoters: [1], tickMs: 10, snapshotEveryEntries: 5, compactionKeepEntries: 2 };
  const driver = new RaftDriver(options);
  await driver.start();
  await waitFor('leader', () => driver.status().role === 'leader');
  for (let i = 0; i < 12; i++) await driver.propose(bytes(`e${i}`));
  t.ok(store.snapshot().meta.index >= 10, `snapshot at ${store.snapshot().meta.index}`);
  t.ok(store.firstIndex() > 1, `log compacted to first index ${store.firstIndex()}`);
  await driver.stop();

  const image = store.durableImage();
  const fresh = new ListStateMachine(); // as if the state machine's own files were lost behind the snapshot
  const restarted = new RaftDriver({ ...options, store: MemoryLogStore.fromImage(image), stateMachine: fresh, transport: network.port(1) });
  await restarted.start();
  t.teardown(() => restarted.stop());
  await waitFor('replay to the end', () => fresh.items.length === 12);
  t.same(fresh.items, stateMachine.items, 'snapshot plus the kept log rebuild the same state');
});

t.test('Raft metrics read the driver on scrape', async (t) => {
  const { leader } = await startGroup(t, 1);
  const registry = new client.Registry();
  registerRaftMetrics(leader.driver, registry);
  await leader.driver.propose(bytes('m'));
  const text = await registry.metrics();
  t.match(text, /praefect_raft_is_leader 1/);
  t.match(text, /praefect_raft_proposals_total 1/);
  t.match(text, new RegExp(`praefect_raft_commit_index ${leader.driver.status().commit}`));
  await leader.driver.propose(bytes('n'));
  t.match(await registry.metrics(), /praefect_raft_proposals_total 2/, 'counters follow the driver between scrapes');
});

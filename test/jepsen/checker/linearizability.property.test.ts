import fc from 'fast-check';
import t from 'tap';
import { appendList, checkLinearizability, register, setModel, type Model, type Op } from '../../../jepsen/checker/index.js';
import { plannedProcesses, runAppendList, runRegister, runSet } from './random-histories.js';

// Histories recorded from a real sequential register, each op taking effect
// at a random point inside its random interval (with info, fail and crashed
// ops), must be judged linearizable; making one read see a value never
// written must make them illegal. CI runs seed 1; SEED=<seed> runs another
// (SEED=44724043 is a known slow one: proving a mutated set history illegal
// hits the per-key search time bound, and fast-check's shrinking repeats it).
const seed = process.env['SEED'] !== undefined ? Number(process.env['SEED']) : 1;
t.comment(`linearizability property seed: ${seed} (replay with SEED=${seed})`);

const reg = register();
const options = { timeLimitMs: 20_000, maxStates: 2_000_000 };

t.test('histories of a real register are linearizable', async (t) => {
  let ops = 0;
  fc.assert(
    fc.property(plannedProcesses, (processes) => {
      const history = runRegister(processes);
      ops += history.length;
      const result = checkLinearizability(history, reg, options);
      if (result.verdict !== 'ok') throw new Error(`judged ${result.verdict}: ${JSON.stringify(result.keys.map((k) => [k.key, k.verdict, k.explanation?.stuck.invoke.index]))}`);
    }),
    { seed, numRuns: 300 },
  );
  t.ok(ops > 0, `checked ${ops} history events`);
});

t.test('a read of a value never written makes them illegal', async (t) => {
  let mutated = 0;
  fc.assert(
    fc.property(plannedProcesses, fc.nat(), (processes, pick) => {
      const history = runRegister(processes);
      const okReads = history.filter((op) => op.type === 'ok' && op.f === 'read');
      fc.pre(okReads.length > 0);
      const read = okReads[pick % okReads.length]!;
      read.value = 'never-written';
      mutated++;
      const result = checkLinearizability(history, reg, options);
      const verdicts = result.keys.map((k) => [k.key, k.verdict]);
      if (result.verdict !== 'illegal') throw new Error(`judged ${result.verdict}: ${JSON.stringify(verdicts)}`);
      const illegal = result.keys.filter((k) => k.verdict === 'illegal');
      if (illegal.length !== 1 || illegal[0]!.key !== read.key) throw new Error(`wrong keys illegal: ${JSON.stringify(verdicts)}, mutated key ${String(read.key)}`);
    }),
    { seed, numRuns: 300 },
  );
  t.ok(mutated > 100, `${mutated} histories mutated`);
});

t.test('histories of a real append-list are linearizable; dropping an acknowledged id from a later read makes them illegal', async (t) => {
  const dropped = checkCollections((p) => runAppendList(p), appendList(), 'append');
  t.ok(dropped > 30, `${dropped} histories had an acknowledged id dropped from a later read`);
});

t.test('histories of a real set are linearizable; dropping an acknowledged id from a later read makes them illegal', async (t) => {
  const dropped = checkCollections(runSet, setModel(), 'add');
  t.ok(dropped > 30, `${dropped} histories had an acknowledged id dropped from a later read`);
});

function checkCollections<S>(run: (processes: Parameters<typeof runAppendList>[0]) => Op[], model: Model<S>, addF: string): number {
  let dropped = 0;
  fc.assert(
    fc.property(plannedProcesses, fc.nat(), (processes, pick) => {
      const history = run(processes);
      const result = checkLinearizability(history, model, options);
      if (result.verdict !== 'ok') throw new Error(`judged ${result.verdict}: ${JSON.stringify(result.keys.map((k) => [k.key, k.verdict]))}`);
      // An add acknowledged before a read was invoked must be in it.
      const reads = history.filter((op) => op.type === 'ok' && op.f === 'read' && (op.value as number[]).length > 0);
      const read = reads[pick % Math.max(1, reads.length)];
      if (read === undefined) return;
      const invokedAt = lastInvocationBefore(history, read);
      const acknowledged = (id: number): boolean => history.some((a) => a.type === 'ok' && a.f === addF && a.value === id && a.index < invokedAt && a.key === read.key);
      const items = read.value as number[];
      const victim = items.find(acknowledged);
      if (victim === undefined) return;
      read.value = items.filter((id) => id !== victim);
      dropped++;
      const mutated = checkLinearizability(history, model, options);
      if (mutated.verdict !== 'illegal') throw new Error(`dropping ${victim} at index ${read.index}: judged ${mutated.verdict}`);
    }),
    { seed, numRuns: 300 },
  );
  return dropped;
}

function lastInvocationBefore(history: readonly Op[], completion: Op): number {
  for (let i = completion.index - 1; i >= 0; i--) {
    const op = history[i]!;
    if (op.process === completion.process) return op.index;
  }
  throw new Error(`no invocation before index ${completion.index}`);
}
